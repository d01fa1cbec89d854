import ArgumentParser
import Foundation
import HitKeep

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending migrations in order, or list them with --status."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(name: .customLong("migrations"),
            help: "Directory of NNNN_name.sql files (env: HITKEEP_MIGRATIONS); by default the ones beside the binary, in its share/hitkeep/migrations or its checkout, else ./migrations.")
    var directory: String?

    @Flag(help: "List every migration and whether it is applied.")
    var status = false

    @Option(help: ArgumentHelp("Event ids per transaction when existing events are added to new rollups.",
                               visibility: .hidden))
    var backfillBatch = 20_000

    func validate() throws {
        guard backfillBatch > 0 else { throw ValidationError("--backfill-batch must be positive") }
    }

    func run() throws {
        let candidates = MigrationsDirectory.candidates()
        let given = directory ?? ProcessInfo.processInfo.environment["HITKEEP_MIGRATIONS"]
        guard let directory = given ?? MigrationsDirectory.find(among: candidates) else {
            throw CommandFailure("no migrations found; looked in \(candidates.joined(separator: ", ")). Give --migrations DIR.")
        }
        let migrator: Migrator
        do {
            migrator = try Migrator(directory: directory)
        } catch let failure as Migrator.Failure {
            throw ValidationError(failure.description)
        }
        let connection = try database.connectDirectly(for: "hitkeep migrate")
        do {
            if status {
                for entry in try migrator.status(connection) {
                    let state = entry.appliedAt.map { "applied \(Timestamp.format($0))" } ?? "pending"
                    let note = entry.changed ? "  CHANGED SINCE APPLIED" : ""
                    print(String(format: "%04d", entry.migration.version), entry.migration.name, state + note)
                }
                return
            }
            let applied = try migrator.migrate(connection)
            if applied.isEmpty {
                print("database is up to date (\(migrator.migrations.count) migrations)")
            }
            for migration in applied {
                print("applied", String(format: "%04d", migration.version), migration.name)
            }
            if try RollupBackfill(connection: connection, batchSize: backfillBatch).run() {
                print("filtered rollups hold every event")
            }
            try EventsPartitioning(connection: connection).run()
        } catch let failure as Migrator.Failure {
            FileHandle.standardError.write(Data("error: \(failure.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
