import ArgumentParser
import Logging
import Foundation
import CSupport
import HitKeep
import Scoreboard

#if canImport(Glibc)
import Glibc
#endif

/// A single worker on the listening socket at fd 0. The supervisor starts these; so can spawn-fcgi.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Serve FastCGI requests on fd 0 in this one process (started by `serve`).",
        shouldDisplay: false
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Exit after this many requests; 0 for no limit (env: HITKEEP_MAX_REQUESTS).")
    var maxRequests: Int = ProcessInfo.processInfo.environment["HITKEEP_MAX_REQUESTS"].flatMap(Int.init) ?? 0

    @Option(help: ArgumentHelp("The slot of the scoreboard at fd 3 that `serve` gave this worker.", visibility: .private))
    var scoreboardSlot: Int?

    func run() throws {
        // A worker whose supervisor died drains rather than living on unsupervised.
        _ = hk_terminate_with_parent()
        LoggingSetup.bootstrap()
        let logger = LoggingSetup.logger("hitkeep.worker")
        let application = Application(configuration: database.configuration, logger: logger)
        let pooled = scoreboardSlot.flatMap { attach(slot: $0, routes: PoolRoutes.labels(of: application), logger: logger) }
        let worker = Worker(application: application, maxRequests: maxRequests, slot: pooled)
        DatabaseErrorCounting.start { worker.slot.countDatabaseError($0) }
        let outcome = try worker.run()
        switch outcome {
        case .drained, .recycled: throw ExitCode.success
        case .failed:
            logger.error("accept failed; exiting")
            throw ExitCode(1)
        }
    }

    /// The supervisor's scoreboard, or nil (and a warning) when it cannot be used: the worker then
    /// serves all the same, uncounted by the pool.
    private func attach(slot: Int, routes: [RouteLabel], logger: Logger) -> WorkerSlot? {
        do {
            let board = try Scoreboard.attach(routes: routes)
            guard slot >= 0 && slot < board.slotCount else {
                logger.warning("no scoreboard slot \(slot); serving uncounted")
                return nil
            }
            return WorkerSlot(board: board, index: slot)
        } catch {
            logger.warning("\(error); serving uncounted")
            return nil
        }
    }
}
