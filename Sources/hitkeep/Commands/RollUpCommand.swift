import ArgumentParser
import CSupport
import Foundation
import HitKeep
import Logging
import Scoreboard

/// The process that folds the ingest queue into the rollups. `serve` starts and supervises one
/// beside its workers; pools on several hosts each run one, and they share the work site by site.
struct RollUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roll-up",
        abstract: "Fold queued page views into the rollups about once a second (started by `serve`).",
        shouldDisplay: false
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Fold what is queued, create the coming months' event partitions and remove raw events past their retention once, then exit.")
    var once = false

    @Flag(help: ArgumentHelp("Record folds in the scoreboard at fd 3 that `serve` passes.", visibility: .private))
    var scoreboard = false

    func run() throws {
        _ = hk_terminate_with_parent()
        LoggingSetup.bootstrap()
        let logger = LoggingSetup.logger("hitkeep.roll-up")
        var folder = QueueFolder(configuration: database.configuration, logger: logger)
        if once {
            var progress = ClosingsProgress()
            try folder.runOnce { progress.update(done: $0, ahead: $1) }
            progress.finish()
            return
        }
        if scoreboard {
            do {
                let board = try Scoreboard.attach(routes: PoolRoutes.labels())
                let record = RollUpRecord(board: board)
                DatabaseErrorCounting.start { record.countDatabaseError($0) }
                record.ready()
                folder.record = record
                folder.usageCounters = UsageCounters(board: board)
            } catch {
                logger.warning("\(error); folding uncounted")
            }
        }
        folder.run()
    }
}
