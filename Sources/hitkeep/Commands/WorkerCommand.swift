import ArgumentParser
import Foundation
import CSupport
import HitKeep

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

    func run() throws {
        // A worker whose supervisor died drains rather than living on unsupervised.
        _ = hk_terminate_with_parent()
        LoggingSetup.bootstrap()
        let logger = LoggingSetup.logger("hitkeep.worker")
        let application = Application(configuration: database.configuration, logger: logger)
        let outcome = try Worker(application: application, maxRequests: maxRequests).run()
        switch outcome {
        case .drained, .recycled: throw ExitCode.success
        case .failed:
            logger.error("accept failed; exiting")
            throw ExitCode(1)
        }
    }
}
