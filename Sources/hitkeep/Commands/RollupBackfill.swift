import Foundation
import HitKeep
import PostgresClient

/// Adds the events an installation had before a migration to the rollups that migration made or
/// widened, in batches of `batchSize` event ids, each its own transaction, with a progress bar:
/// before 0012 to the filtered rollups (`backfill_filtered_rollups`), before 0020 their hostnames
/// (`backfill_hostname_rollups`), before 0024 their visitor profiles (`backfill_profile_rollups`), before 0045 the lists by quarter
/// hour (`backfill_quarter_lists`). Ingestion goes on meanwhile: a batch holds its sites' rollup locks
/// for well under a second. Interrupted, it resumes where it stopped at the next `hitkeep migrate`.
struct RollupBackfill {
    let connection: PostgresConnection
    var batchSize = 20_000

    /// One migration's backfill: the table holding its progress, the function that does a batch,
    /// and the rollups it adds to, analyzed once it is done. A rollup that a later migration moved
    /// is named under both names (`filtered_traffic` became a view of `keyed_filtered_traffic` in
    /// 0052): an upgrade that stops before that migration backfills the first.
    struct Job {
        let table: String
        let function: String
        let description: String
        var rollups = ["keyed_filtered_traffic", "filtered_traffic", "filtered_counts", "filtered_session_ends"]
    }

    static let jobs = [
        Job(table: "filtered_rollups_backfill", function: "backfill_filtered_rollups",
            description: "adding existing events to the filtered rollups"),
        Job(table: "hostname_rollups_backfill", function: "backfill_hostname_rollups",
            description: "adding existing events' hostnames to the filtered rollups"),
        Job(table: "profile_rollups_backfill", function: "backfill_profile_rollups",
            description: "adding existing events' visitor profiles to the filtered rollups"),
        Job(table: "quarter_lists_backfill", function: "backfill_quarter_lists",
            description: "adding existing events to the top lists by quarter hour",
            rollups: ["quarter_counts", "quarter_session_ends"]),
    ]

    /// Returns whether there was anything to do.
    @discardableResult
    func run() throws -> Bool {
        var filled: [String] = []
        for job in Self.jobs where try run(job) {
            filled += job.rollups.filter { !filled.contains($0) }
        }
        let tables = try connection.query("""
            SELECT quote_ident(relname) AS name FROM pg_class
            WHERE relname = ANY (\(filled)::text[]) AND relkind = 'r' AND relnamespace = current_schema()::regnamespace
            """)
        for table in tables {
            try connection.execute("ANALYZE \(try table.decode(String.self, "name"))")
        }
        return !filled.isEmpty
    }

    private func run(_ job: Job) throws -> Bool {
        // A database migrated with an older set of migrations has no such table.
        guard try connection.query("SELECT to_regclass(\(job.table)) IS NOT NULL AS present")[0].decode(Bool.self, "present"),
              let pending = try connection.query("SELECT through, next_id FROM \(unescaped: job.table)").first else {
            return false
        }
        let remaining = try pending.decode(Int.self, "through") - pending.decode(Int.self, "next_id") + 1
        FileHandle.standardError.write(Data("\(job.description)\n".utf8))
        var progress = ProgressBar(total: remaining, unit: "event ids")
        var done = 0
        while true {
            let covered = try connection.query("SELECT \(unescaped: job.function)(\(batchSize)) AS covered")[0]
                .decode(Int.self, "covered")
            guard covered > 0 else { break }
            done += covered
            progress.update(min(done, remaining))
        }
        progress.update(remaining, force: true)
        progress.finish()
        return true
    }
}
