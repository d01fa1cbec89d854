import Foundation
import Logging

/// Adds up the days and hours of breakdowns under a filter (migrations/0026–0030) for the roll-up
/// process, on a thread and a connection of their own. One dimension of a day of a site of ten
/// million page views a month takes 3–7 s and a site has thirteen due a day: run between the folds,
/// they held the folds back that long, the queue fell as far behind, and a stats request arriving
/// meanwhile folded the backlog of its site itself before answering. Beside the folds, a closing
/// only waits for a running fold of its site for a moment at its end (`close_filtered_breakdown`).
struct BreakdownClosings: Sendable {
    /// Pause between passes.
    var interval: TimeInterval = 60
    /// How long a pass adds up periods one after another (at least one): per site and dimension a
    /// day and up to 48 hours are due each day. Short, although the folds go on: a closing's CPU is
    /// taken from the workers' requests and the folds (`compare.sh`'s ingest row, one run each:
    /// 0.74 with 10 s a minute, 0.78 with 2 s). 2 s a minute are 48 minutes a day: a site of ten
    /// million page views a month needs about six and a half (its day's thirteen dimensions, 64 s,
    /// and 48 hours of them, up to 0.8 s each), so one roll-up process keeps up with about seven.
    var budget: Duration = .seconds(2)
    /// Past the budget, a pass goes on while the host is otherwise idle: after a bulk load or an
    /// upgrade a site of ten million page views has 390 closings due (30 days of 13 dimensions),
    /// about seven hours at one a minute, its breakdowns reading raw events meanwhile. Before
    /// each further closing the pass looks at the host's CPU for `idleProbe`, and goes on only if
    /// at least `idleShare` of it was idle (with a busy pool or ingestion it is not, and the
    /// budget holds as before).
    var idleProbe: TimeInterval = 1
    var idleShare = 0.75
    /// How a closing's transaction begins: with the fold's statement timeout in place of the
    /// requests' (`QueueFolder.foldBegin`).
    let begin: String

    let configuration: Configuration
    let logger: Logger

    /// Runs `pass` every `interval` on a new thread, for the life of the process.
    func start() {
        Thread.detachNewThread { [self] in
            let database = Database(configuration: configuration, applicationName: "hitkeep-breakdowns")
            while true {
                do {
                    try pass(on: database)
                } catch {
                    logger.warning("adding up a day or hour of breakdowns failed; retrying in a minute",
                                   metadata: ["error": "\(error)"])
                }
                Thread.sleep(forTimeInterval: interval)
            }
        }
    }

    /// Adds up due periods one after another until none is left, or `budget` has passed and the
    /// host is busy.
    func pass(on database: Database) throws {
        let deadline = ContinuousClock.now.advanced(by: budget)
        while try closeOne(on: database) {
            if ContinuousClock.now >= deadline, !hostIsIdle() { return }
        }
    }

    /// Whether the host's CPU was mostly idle over the next `idleProbe` (false where that cannot
    /// be read). The probe's pause also leaves a request that arrived during a closing a moment
    /// with both processors.
    private func hostIsIdle() -> Bool {
        guard let before = ProcessorTimes.current() else { return false }
        Thread.sleep(forTimeInterval: idleProbe)
        guard let after = ProcessorTimes.current() else { return false }
        return after.idleShare(since: before) >= idleShare
    }

    /// How many days and hours of dimensions are due, less the hours that a day due will cover
    /// (`filtered_breakdown_closings_ahead`, migrations/0038).
    func closingsAhead(on database: Database) throws -> Int {
        try database.query("SELECT filtered_breakdown_closings_ahead() AS ahead")[0].decode(Int.self, "ahead")
    }

    /// Adds up one dimension of the next due UTC day or hour (days first, newest first); returns
    /// whether there was one.
    func closeOne(on database: Database) throws -> Bool {
        try database.transaction(begin: begin) {
            try database.query("SELECT close_filtered_breakdowns(1) AS tried")[0].decode(Int.self, "tried") > 0
        }
    }
}
