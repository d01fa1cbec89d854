import Foundation
import HitKeep
import PostgresClient

/// Adds the events an installation had before migration 0012 to the filtered rollups, in batches
/// of `batchSize` event ids, each its own transaction (`backfill_filtered_rollups`), with a progress
/// bar. Ingestion goes on meanwhile: a batch holds its sites' rollup locks for well under a second.
/// Interrupted, it resumes where it stopped at the next `hitkeep migrate`.
struct RollupBackfill {
    let connection: PostgresConnection
    var batchSize = 20_000

    /// Returns whether there was anything to do.
    @discardableResult
    func run() throws -> Bool {
        // A database migrated with an older set of migrations has no such table.
        guard try connection.query("SELECT to_regclass('filtered_rollups_backfill') IS NOT NULL AS present")[0]
                .decode(Bool.self, "present"),
              let job = try connection.query("SELECT through, next_id FROM filtered_rollups_backfill").first else {
            return false
        }
        let remaining = try job.decode(Int.self, "through") - job.decode(Int.self, "next_id") + 1
        FileHandle.standardError.write(Data("adding existing events to the filtered rollups\n".utf8))
        var progress = ProgressBar(total: remaining, unit: "event ids")
        var done = 0
        while true {
            let covered = try connection.query("SELECT backfill_filtered_rollups(\(batchSize)) AS covered")[0]
                .decode(Int.self, "covered")
            guard covered > 0 else { break }
            done += covered
            progress.update(min(done, remaining))
        }
        progress.update(remaining, force: true)
        progress.finish()
        try connection.execute("ANALYZE filtered_traffic; ANALYZE filtered_counts; ANALYZE filtered_session_ends")
        return true
    }
}
