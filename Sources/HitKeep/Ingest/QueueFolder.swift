import Foundation
import Logging
import PostgresClient
import Scoreboard

/// What `hitkeep roll-up` does: moves queued page views into the rollups about once a second
/// (migrations/0008), so that the queue stays short, stats requests find little left to fold, and
/// the reporting views trail ingestion by about a second.
public struct QueueFolder {
    /// Pause between folds while the queue keeps up.
    public var interval: TimeInterval = 1
    /// Events per transaction: a backlog (after an outage, say) is worked off in steps of a few
    /// seconds each.
    public var batchSize = 20_000
    /// Longest a fold may run, in place of the requests' statement timeout. A fold the request
    /// timeout cancels is retried every second with the same events, and nothing queued after them
    /// would ever fold: one slow fold (a very long session's first after an upgrade, a backlog on a
    /// slow disk) must finish once instead. A stats request of the site being folded waits for it.
    public var foldTimeout = Duration.seconds(600)

    /// Pause between purges of expired sessions and throttle rows, which nothing reads any more but
    /// which would otherwise stay for good.
    public var purgeInterval: TimeInterval = 60
    /// Pause between passes of the raw-event retention (partitions ahead, expired events removed).
    public var retentionInterval: TimeInterval = 60
    /// Pause between looks at the rollup indexes (`RollupIndexUpkeep`).
    public var indexUpkeepInterval: TimeInterval = 3_600

    /// Where the pool's scoreboard learns of each fold; nil outside a pool.
    public var record: RollUpRecord?
    /// The pool's API client usage counts, drained into the database on every pass (about once a
    /// second); nil outside a pool.
    public var usageCounters: UsageCounters?

    private let database: Database
    /// A connection of its own for index rebuilds, without the statement timeout (a rebuild at ten
    /// million events takes longer; through a transaction-pooling PgBouncer the role's default applies).
    private let upkeepDatabase: Database
    private let configuration: Configuration
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        database = Database(configuration: configuration, applicationName: "hitkeep-roll-up")
        var untimed = configuration
        untimed.statementTimeoutMilliseconds = 0
        upkeepDatabase = Database(configuration: untimed, applicationName: "hitkeep-index-upkeep")
        self.configuration = configuration
        self.logger = logger
    }

    /// Folds until the process is stopped. A fold is one transaction, so stopping mid-fold (SIGTERM's
    /// default action) loses nothing: the queued rows are still there for the next one.
    public func run() -> Never {
        BreakdownClosings(begin: foldBegin, configuration: configuration, logger: logger).start()
        var failing = false
        var nextPurge = Date()
        var nextRetention = Date()
        var nextIndexUpkeep = Date()
        while true {
            if let usageCounters {
                do {
                    try ClientUsageStore.drain(usageCounters, now: Date(), on: database)
                } catch {
                    // The counts stay in shared memory for the next pass.
                    if !failing { logger.warning("API client usage not stored; retrying", metadata: ["error": "\(error)"]) }
                }
            }
            do {
                if Date() >= nextPurge {
                    try purge()
                    nextPurge = Date().addingTimeInterval(purgeInterval)
                }
                if Date() >= nextRetention {
                    nextRetention = Date().addingTimeInterval(retentionInterval)
                    // Folding goes on whatever happens to these.
                    bestEffort("closing the filtered rollups' days failed; retrying in a minute") { try closeDays() }
                    bestEffort("raw-event retention failed; retrying in a minute") {
                        // A backlog of expired events goes on after the next fold, not in a minute.
                        if try !applyRetention() { nextRetention = Date() }
                    }
                }
                if Date() >= nextIndexUpkeep {
                    nextIndexUpkeep = Date().addingTimeInterval(indexUpkeepInterval)
                    bestEffort("rollup index rebuild failed; retrying in an hour") { try upkeepIndexes() }
                }
                let started = MonotonicClock.nanoseconds()
                let moved = try fold()
                record?.folded(moved: moved, drained: moved < batchSize, started: started)
                if failing {
                    logger.info("rolling up again")
                    failing = false
                }
                // After every fold that worked (one that fails says why once): a deleted site's
                // rows are gone in minutes at ten million page views.
                bestEffort("removing a deleted site's rows failed; retrying") { try removeDeletedSites() }
                if moved >= batchSize { continue }
            } catch {
                record?.failed()
                // Once per outage, not once a second.
                if !failing { logger.warning("roll-up failed; retrying every second", metadata: ["error": "\(error)"]) }
                failing = true
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    /// One pass of everything `run` does periodically, then returns: the queue folded to the end,
    /// ended days added up, partitions created, retention applied, deleted sites' rows removed,
    /// expired rows purged, loose rollup indexes rebuilt (`hitkeep roll-up --once`, for an
    /// operator's cron job or a test).
    /// `closingsProgress` hears, when breakdown closings are due, how many are done of those that
    /// were ahead at first (after a bulk load or an upgrade, the part that takes long).
    public func runOnce(closingsProgress: ((_ done: Int, _ ahead: Int) -> Void)? = nil) throws {
        while try fold() >= batchSize {}
        try closeEndedPeriods(closingsProgress: closingsProgress)
        while try !applyRetention() {}
        while try !removeDeletedSites() {}
        try purge()
        try upkeepIndexes()
    }

    /// Adds up every period that has ended: the filtered rollups' days, then each breakdown
    /// closing due (what a bulk load leaves, `hitkeep dev seed` and `roll-up --once`).
    /// `closingsProgress` hears how many of the closings that were ahead at first are done.
    public func closeEndedPeriods(closingsProgress: ((_ done: Int, _ ahead: Int) -> Void)? = nil) throws {
        try closeDays()
        let closings = BreakdownClosings(begin: foldBegin, configuration: configuration, logger: logger)
        let ahead = closingsProgress == nil ? 0 : try closings.closingsAhead(on: database)
        var done = 0
        if ahead > 0 { closingsProgress?(0, ahead) }
        while try closings.closeOne(on: database) {
            done += 1
            // Periods that fall due meanwhile (or open again after a write) are added up too.
            if ahead > 0 { closingsProgress?(min(done, ahead), ahead) }
        }
    }

    /// Runs a periodic chore whose failure must not stop the folds: logs it and goes on.
    private func bestEffort(_ failure: Logger.Message, _ chore: () throws -> Void) {
        do {
            try chore()
        } catch {
            logger.warning(failure, metadata: ["error": "\(error)"])
        }
    }

    /// Adds up the UTC days that ended for the filtered rollups (migrations/0025): a few seconds once
    /// a day, holding the folds back meanwhile.
    func closeDays() throws {
        // A day of every site's quarters: more than a request's timeout on a large installation.
        _ = try database.transaction(begin: foldBegin) {
            try database.query("SELECT close_filtered_traffic_days()")
        }
    }

    /// Rebuilds the rollup indexes that have grown loose (`RollupIndexUpkeep`).
    func upkeepIndexes() throws {
        let started = Date()
        let rebuilt = try RollupIndexUpkeep(minimumBytes: configuration.rollupIndexMinimumBytes).apply(on: upkeepDatabase)
        if !rebuilt.isEmpty {
            logger.info("rollup indexes rebuilt", metadata: ["indexes": "\(rebuilt.joined(separator: ","))",
                                                             "seconds": "\(Int(Date().timeIntervalSince(started)))"])
        }
    }

    /// Folds up to `batchSize` queued events in one transaction; returns how many.
    func fold() throws -> Int {
        try database.transaction(begin: foldBegin) {
            try EventStore.foldAll(limit: batchSize, on: database)
        }
    }

    /// Opens a transaction with the fold's timeout in place of the requests'. SET LOCAL, not a
    /// session setting: through a transaction-pooling PgBouncer the next transaction may run on
    /// another server session.
    var foldBegin: String {
        "BEGIN; SET LOCAL statement_timeout = \(foldTimeout.components.seconds * 1000)"
    }

    /// Creates the coming months' event partitions and removes raw events past their retention;
    /// returns whether none that expired is left.
    @discardableResult
    func applyRetention() throws -> Bool {
        let (removed, finished) = try RawEventRetention(instanceDays: configuration.retentionDays).apply(on: database)
        if removed > 0 { logger.info("raw events past their retention removed", metadata: ["events": "\(removed)"]) }
        return finished
    }

    /// Removes some of the rows of deleted sites; returns whether none is left.
    @discardableResult
    func removeDeletedSites() throws -> Bool {
        let (removed, finished) = try DeletedSiteRemoval().apply(on: database)
        if removed > 0 { logger.debug("rows of a deleted site removed", metadata: ["rows": "\(removed)"]) }
        return finished
    }

    /// Deletes what has expired: sessions past their end, and failed sign-ins and password changes
    /// that have left the throttle's window. Each table in a statement of its own, which waits for no
    /// lock: holding one table's rows while waiting for another's could deadlock with a user's
    /// deletion, which removes that user's rows of all three.
    func purge() throws {
        let now = Date()
        let windowStart = now.addingTimeInterval(-configuration.loginWindow)
        try SessionStore.purgeExpired(at: now, on: database)
        try LoginThrottle.purge(olderThan: windowStart, on: database)
        try PasswordChangeThrottle.purge(olderThan: windowStart, on: database)
        // Rate-limit minutes are over after one minute; the one before stays for a late lease.
        try QuotaLedger.purge(before: now.addingTimeInterval(-120), on: database)
        try ClientUsageStore.purge(now: now, on: database)
    }
}
