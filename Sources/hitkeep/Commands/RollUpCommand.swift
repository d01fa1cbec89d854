import ArgumentParser
import CSupport
import HitKeep

/// The process that folds the ingest queue into the rollups. `serve` starts and supervises one
/// beside its workers; pools on several hosts each run one, and they share the work site by site.
struct RollUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roll-up",
        abstract: "Fold queued page views into the rollups about once a second (started by `serve`).",
        shouldDisplay: false
    )

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        _ = hk_terminate_with_parent()
        LoggingSetup.bootstrap()
        QueueFolder(configuration: database.configuration, logger: LoggingSetup.logger("hitkeep.roll-up")).run()
    }
}
