import Foundation
import PostgresClient

/// What the roll-up process does about once a minute for the partitioned `events`
/// (migrations/0019): creates the month partitions ahead of time, moves each site's raw-event
/// horizon on by its retention period, and removes the raw events before it — whole partitions
/// where every site is past them, else a batch per transaction, so no statement holds rows or
/// locks for long. The rollups are left as they are.
public struct RawEventRetention {
    /// Months after the current one that have their partition.
    public static let monthsAhead = 3
    /// Events per deleting transaction.
    public var batchSize = 5_000
    /// Deleting transactions per pass.
    public var maximumBatches = 20
    /// The instance's retention (HITKEEP_RETENTION_DAYS), for sites without their own.
    public var instanceDays: Int?

    public init(instanceDays: Int?) {
        self.instanceDays = instanceDays
    }

    /// Returns how many raw events it removed, and whether it removed all that had expired: a pass
    /// deletes at most `maximumBatches` batches, so that a large backlog (a retention just set on
    /// years of events) is worked off between folds rather than holding them up.
    @discardableResult
    public func apply(on database: Database) throws -> (removed: Int, finished: Bool) {
        try database.query("SELECT create_event_partitions(\(Self.monthsAhead))")
        try database.query("SELECT advance_raw_event_horizons(\(instanceDays))")
        return try BatchedDeletion(maximumBatches: maximumBatches).run {
            try database.query("SELECT remove_expired_events(\(batchSize)) AS removed")[0].decode(Int.self, "removed")
        }
    }
}
