import Foundation

/// Where `hitkeep migrate` finds its migrations when not told: the repository's `migrations/` when
/// run from a checkout, else beside the binary or in the share directory an installation copies
/// them to (README, Deployment), so that `hitkeep migrate` works from any working directory.
enum MigrationsDirectory {
    static func candidates(executable: URL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath())
        -> [String] {
        let binary = executable.deletingLastPathComponent()
        return [
            "migrations",
            binary.appendingPathComponent("migrations").path,
            binary.deletingLastPathComponent().appendingPathComponent("share/hitkeep/migrations").path,
            "/usr/local/share/hitkeep/migrations",
            "/usr/share/hitkeep/migrations",
        ]
    }

    /// The first candidate that is a directory holding `.sql` files.
    static func find(among candidates: [String] = candidates()) -> String? {
        candidates.first { path in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return files.contains { $0.hasSuffix(".sql") }
        }
    }
}
