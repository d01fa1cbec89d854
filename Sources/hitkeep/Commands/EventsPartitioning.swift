import Foundation
import HitKeep
import PostgresClient
import Scoreboard

/// Turns an installation's `events` into a table partitioned by month (migrations/0019), without
/// holding it locked while its rows are read: the existing events are read through in chunks with
/// a progress bar and their time check is validated while page views keep being folded in; only
/// the swap (`partition_events`, catalog changes alone) locks `events`, which it reports.
/// Interrupted, it starts over at the next `hitkeep migrate`.
struct EventsPartitioning {
    let connection: PostgresConnection
    var chunkSize = 500_000
    /// How long the swap waits for the lock before giving up and trying again: a long wait would
    /// stop the fold, and every statement queued behind it, for as long.
    var lockWait = "2s"
    var attempts = 30

    /// Returns whether there was anything to do.
    @discardableResult
    func run() throws -> Bool {
        guard try connection.query("SELECT to_regclass('events_partitioning') IS NOT NULL AS present")[0]
                .decode(Bool.self, "present"),
              let job = try connection.query("SELECT boundary, converted_at IS NOT NULL AS done FROM events_partitioning").first,
              try !job.decode(Bool.self, "done") else {
            return false
        }
        let started = Date()
        let bounds = try connection.query("SELECT coalesce(min(id), 0) AS low, coalesce(max(id), 0) AS high FROM events")[0]
        let low = try bounds.decode(Int.self, "low"), high = try bounds.decode(Int.self, "high")
        // A new installation has nothing to read, and nothing to report.
        let existing = high > 0
        if existing {
            try readThrough(low...high)
        }
        _ = try connection.transaction(begin: "BEGIN; SET LOCAL statement_timeout = 0") {
            try connection.execute("ALTER TABLE events VALIDATE CONSTRAINT events_before_partitions")
        }
        let locked = try swap()
        try connection.query("SELECT create_event_partitions(\(RawEventRetention.monthsAhead))")
        try connection.execute("ANALYZE events")
        if existing {
            let total = Date().timeIntervalSince(started)
            print(String(format: "events partitioned by month in %.1f s; events was locked for %.0f ms", total, locked * 1000))
        }
        return true
    }

    /// Reads the events with ids in `ids` a chunk at a time, with a progress bar: this shows how far
    /// the conversion is and leaves the table in the cache, so that VALIDATE (one statement that
    /// cannot report how far it is) goes quickly after it.
    private func readThrough(_ ids: ClosedRange<Int>) throws {
        FileHandle.standardError.write(Data("partitioning events by month: reading the existing events\n".utf8))
        var progress = ProgressBar(total: ids.count, unit: "event ids")
        var next = ids.lowerBound
        while next <= ids.upperBound {
            let late = try connection.query(
                """
                SELECT count(*) FILTER (WHERE occurred_at >= (SELECT boundary FROM events_partitioning)) AS late
                FROM events WHERE id >= \(next) AND id < \(next + chunkSize)
                """)[0].decode(Int.self, "late")
            guard late == 0 else {
                throw CommandFailure("\(late) events lie after the first month partition's start; run `hitkeep migrate` again")
            }
            next += chunkSize
            progress.update(min(next - ids.lowerBound, ids.count))
        }
        progress.update(ids.count, force: true)
        progress.finish()
    }

    /// Runs `partition_events`, retrying when the lock is not granted in time; returns how long the
    /// transaction held `events`, from the lock being granted to COMMIT.
    private func swap() throws -> TimeInterval {
        for attempt in 1...attempts {
            do {
                var granted: UInt64 = 0
                try connection.transaction {
                    try connection.query("SELECT set_config('lock_timeout', \(lockWait), true)")
                    try connection.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
                    granted = MonotonicClock.nanoseconds()
                    try connection.execute("SELECT partition_events()")
                }
                return Double(MonotonicClock.nanoseconds() - granted) / 1e9
            } catch let error as PostgresError where error.sqlState == "55P03" && attempt < attempts {
                FileHandle.standardError.write(Data("events is busy; trying again\n".utf8))
            }
        }
        throw CommandFailure("could not lock events to partition it")
    }
}
