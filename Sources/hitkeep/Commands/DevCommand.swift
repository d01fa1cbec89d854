import ArgumentParser
import Foundation
import HitKeep
import PostgresClient

/// Tools for developing and measuring HitKeep; not needed in production.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Development tools: synthetic traffic.",
        subcommands: [SeedCommand.self]
    )
}

/// `hitkeep dev seed --site ID --events N --days D`: synthetic page views written through the same
/// INSERT as ingestion (EventStore), so the rollups are kept by the same trigger.
struct SeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Write synthetic page views for a site, spread over the last days up to now."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Id of the site to write to.")
    var site: String

    @Option(help: "How many page views to write.")
    var events: Int = 10_000

    @Option(help: "Spread them over this many days up to now.")
    var days: Int = 30

    @Option(help: "Random seed: the same seed writes the same traffic (times are relative to now).")
    var seed: UInt64 = 1

    @Option(name: .customLong("batch-size"), help: "Page views per INSERT statement (and transaction).")
    var batchSize: Int = 5000

    @Flag(inversion: .prefixedNo, help: """
        Add up the ended days' and hours' breakdowns under filters before exiting, as `hitkeep roll-up --once` \
        does (as long again as the writing). Without, the roll-up process adds them up in the background and \
        those breakdowns read raw events until then.
        """)
    var closings = true

    func validate() throws {
        guard events >= 0 else { throw ValidationError("--events must not be negative") }
        guard (1...3650).contains(days) else { throw ValidationError("--days must be from 1 to 3650") }
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 100000") }
    }

    func run() throws {
        let connection = try database.connect()
        guard !(try connection.query("SELECT 1 FROM sites WHERE id = \(site)")).isEmpty else {
            throw CommandFailure("no site with id \(site)")
        }
        let end = Date()
        var generator = TrafficGenerator(siteID: site, start: end.addingTimeInterval(-Double(days) * 86_400), end: end, seed: seed)
        let sessions = generator.plan(events: events)
        var progress = ProgressBar(total: events, unit: "events")
        var written = 0
        var batch: [PageView] = []
        batch.reserveCapacity(batchSize + 30)
        // Whole sessions per batch, so that each statement's trigger run sees sessions complete.
        for (index, session) in sessions.enumerated() {
            batch += generator.session(start: session.start, pages: session.pages)
            if batch.count >= batchSize || index == sessions.count - 1 {
                try EventStore.insert(batch, on: connection)
                written += batch.count
                batch.removeAll(keepingCapacity: true)
                progress.update(written)
            }
        }
        progress.update(written, force: true)
        progress.finish()
        // Fresh statistics, so that the planner knows the rollups' new sizes at once.
        try connection.execute("ANALYZE events; ANALYZE keyed_session_hours; ANALYZE traffic_hourly; ANALYZE dimension_counts; ANALYZE entry_exit_counts; ANALYZE keyed_filtered_traffic; ANALYZE keyed_filtered_traffic_days; ANALYZE filtered_counts; ANALYZE filtered_session_ends; ANALYZE quarter_counts; ANALYZE quarter_session_ends; ANALYZE stat_values")
        // Page views of past days leave their closings due at once: a month's filtered breakdowns
        // would read raw events until the roll-up process has added them up, which it does only
        // while the host is idle (`BreakdownClosings`): at ten million page views, 503 until then.
        if closings {
            LoggingSetup.bootstrap()
            let folder = QueueFolder(configuration: database.configuration, logger: LoggingSetup.logger("hitkeep.dev-seed"))
            var progress = ClosingsProgress()
            try folder.closeEndedPeriods { progress.update(done: $0, ahead: $1) }
            progress.finish()
        }
    }
}
