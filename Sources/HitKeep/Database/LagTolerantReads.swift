import Logging
import PostgresClient

/// Sends the reads that may lag behind the latest write (stats, breakdowns) to a standby
/// (`HITKEEP_READ_DATABASE_URL`) while it is up and close enough behind the primary, and to the
/// primary otherwise, within the same request: a standby that is down, lags, or fails during the
/// read costs the client nothing but the primary's time. Everything else (sign-in, every token
/// lookup, management, ingestion and the queue fold before a stats read) stays on the primary, so
/// that a revocation acts on the very next request whatever the standby has replayed.
final class LagTolerantReads {
    let primary: Database
    private let standby: Database?
    private let maximumLagSeconds: Double
    private let logger: Logger
    /// After a standby failed, it is tried again only from then on: a host that does not answer
    /// would otherwise cost every request its connect timeout.
    private var standbyRetry = ContinuousClock.now
    /// Why the standby was last passed over, logged when it changes; nil while it serves.
    private var passedOverBecause: Reason?
    /// The standby's lag as last measured, and when: measured again once it is older than
    /// `lagMeasurementInterval`, so that a busy worker's stats reads do not each pay a round trip
    /// for it. Until then the lag is taken to have grown by the time since, as if replay had stopped.
    private var lastLag: (seconds: Double, measured: ContinuousClock.Instant)?

    private enum Reason: String {
        case behind = "it is further behind than HITKEEP_READ_MAX_LAG_SECONDS"
        case unavailable = "it is unavailable"
        case failed = "it failed during a read"
    }

    static let retryAfterFailure = Duration.seconds(5)
    static let lagMeasurementInterval = Duration.seconds(1)

    init(primary: Database, configuration: Configuration, logger: Logger) {
        self.primary = primary
        standby = configuration.readDatabaseURL.map {
            Database(configuration: configuration, url: $0, applicationName: "hitkeep-reads", checksSchema: false)
        }
        maximumLagSeconds = configuration.readMaximumLagSeconds
        self.logger = logger
    }

    /// Runs `body` with `context.reads` on the standby when it may serve, else on the primary; when
    /// the standby fails during `body`, runs it again on the primary. `body` must only read.
    func run<T>(_ context: RequestContext, _ body: () throws -> T) throws -> T {
        guard let standby, ContinuousClock.now >= standbyRetry else { return try body() }
        do {
            let lag = try currentLagSeconds(of: standby)
            guard lag <= maximumLagSeconds else {
                passOver(because: .behind, detail: "\(lag.rounded()) s behind")
                return try body()
            }
        } catch let error as PostgresError where error.isUnavailable {
            passOver(because: .unavailable, detail: error.message, retryLater: true)
            return try body()
        }
        if passedOverBecause != nil {
            logger.info("stats reads go to the standby again")
            passedOverBecause = nil
        }
        context.reads = standby
        defer { context.reads = primary }
        do {
            return try body()
        } catch let error as PostgresError where error.isUnavailable || error.isRecoveryConflict {
            passOver(because: .failed, detail: error.message, retryLater: error.isUnavailable)
            context.reads = primary
            return try body()
        }
    }

    /// The standby's lag: the last measurement plus its age while it is recent, else a new one.
    private func currentLagSeconds(of standby: Database) throws -> Double {
        let now = ContinuousClock.now
        if let lastLag, now - lastLag.measured < Self.lagMeasurementInterval {
            return lastLag.seconds + (now - lastLag.measured) / .seconds(1)
        }
        lastLag = nil
        let seconds = try lagSeconds(of: standby)
        lastLag = (seconds, now)
        return seconds
    }

    /// Seconds the standby's replay trails what it has received, measured as the age of the last
    /// transaction it replayed; 0 when it has replayed all it received (an idle primary sends
    /// nothing, and nothing is then missing), or when the host is a primary after all.
    private func lagSeconds(of standby: Database) throws -> Double {
        let rows = try standby.query("""
            SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                        ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 'Infinity') END::float8
            """)
        return try rows.first?.decode(Double.self, at: 0) ?? .infinity
    }

    /// Logs once per reason in a row, not once per request: a lagging standby would otherwise
    /// write a line for every stats read.
    private func passOver(because reason: Reason, detail: String, retryLater: Bool = false) {
        if retryLater { standbyRetry = .now + Self.retryAfterFailure }
        if passedOverBecause != reason {
            logger.warning("stats reads go to the primary: the standby is skipped",
                           metadata: ["reason": .string(reason.rawValue), "detail": .string(detail)])
            passedOverBecause = reason
        }
    }
}

extension PostgresError {
    /// A standby cancelled the statement because replay needed what it read (40001, "conflict
    /// with recovery"); the primary has no such conflicts.
    var isRecoveryConflict: Bool { sqlState == "40001" }
}
