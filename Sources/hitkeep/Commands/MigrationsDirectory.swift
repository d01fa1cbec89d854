import Foundation

/// Where `hitkeep migrate` finds its migrations when not told, so that it works from any working
/// directory: the ones that came with this binary first (beside it, in the share directory an
/// installation copies them to (README, Deployment), or in the checkout it was built in), then the
/// usual share directories, and only last `./migrations`, so that another project's `migrations/`
/// in the working directory is never taken for HitKeep's while HitKeep's own can be found.
enum MigrationsDirectory {
    static func candidates(executable: URL = runningExecutable()) -> [String] {
        let binary = executable.deletingLastPathComponent()
        var candidates = [
            binary.appendingPathComponent("migrations").path,
            binary.deletingLastPathComponent().appendingPathComponent("share/hitkeep/migrations").path,
        ]
        if let checkout = checkout(containing: binary) {
            candidates.append(checkout.appendingPathComponent("migrations").path)
        }
        candidates += ["/usr/local/share/hitkeep/migrations", "/usr/share/hitkeep/migrations", "migrations"]
        return candidates
    }

    /// The first candidate that is a directory holding `.sql` files.
    static func find(among candidates: [String] = candidates()) -> String? {
        candidates.first { path in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return files.contains { $0.hasSuffix(".sql") }
        }
    }

    /// The binary this process runs, symbolic links resolved. `/proc/self/exe` rather than the
    /// command line's first argument, which is only `hitkeep` when the shell found it on PATH.
    static func runningExecutable() -> URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    }

    /// The source tree a binary under its `.build/…/debug` or `release` directory was built in.
    private static func checkout(containing directory: URL) -> URL? {
        var directory = directory
        while directory.pathComponents.count > 1 {
            if directory.lastPathComponent == ".build" { return directory.deletingLastPathComponent() }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }
}
