import Foundation

/// Settings shared by the CLI and the workers; each comes from an option or a `HITKEEP_…` variable.
public struct Configuration: Sendable {
    public static let version = "0.1.0"

    /// libpq URI or conninfo string.
    public var databaseURL: String
    /// The public URL people reach the server at (`HITKEEP_PUBLIC_URL`): its origin is the one
    /// cookie-authenticated writes must come from, and https makes cookies `Secure`.
    public var publicURL: String?
    /// Longest a statement may run before PostgreSQL cancels it.
    public var statementTimeoutMilliseconds: Int
    /// Whether the workers reach PostgreSQL through a transaction-pooling PgBouncer.
    public var databasePoolMode = DatabasePoolMode.session
    /// Where reads that may lag behind the latest write go (stats, breakdowns): a libpq URI of a
    /// standby, or of several hosts with `target_session_attrs`; nil for the primary.
    public var readDatabaseURL: String?
    /// A standby further behind than this is passed over for the primary.
    public var readMaximumLagSeconds: Double = 10
    /// Request bodies beyond this are refused with 413.
    public var bodyLimit: Int
    /// A session lives this long since it was last renewed (sliding expiry)…
    public var sessionLifetime: TimeInterval = 7 * 86_400
    /// …and never longer than this since sign-in.
    public var sessionAbsoluteLifetime: TimeInterval = 30 * 86_400
    /// Failed logins within `loginWindow` before further attempts are refused with 429: for one email
    /// from one address, and from one address for any emails. The first is also how many wrong
    /// current passwords a signed-in account may send to a password change.
    public var loginFailuresPerEmail = 10
    public var loginFailuresPerAddress = 50
    public var loginWindow: TimeInterval = 15 * 60
    /// Longest lifetime an API client token may have, in days; nil for no limit.
    public var maximumTokenLifetimeDays: Int?
    /// Rollup indexes smaller than this are never rebuilt (HITKEEP_ROLLUP_INDEX_MINIMUM_MB,
    /// `RollupIndexUpkeep`).
    public var rollupIndexMinimumBytes = 64 << 20
    /// Days raw events are kept for sites without a retention of their own (HITKEEP_RETENTION_DAYS);
    /// nil: for good. The text as given, so that `serve` can refuse a bad value (`retentionDays`).
    public var retentionDaysSetting: String?

    /// The instance's retention in days, or nil for none; throws for a value outside `RetentionPeriod`.
    public var retentionDays: Int? {
        get throws {
            guard let retentionDaysSetting else { return nil }
            guard let days = Int(retentionDaysSetting) else {
                throw DomainError.invalid("invalid_retention_days", "HITKEEP_RETENTION_DAYS must be a whole number of days")
            }
            return try RetentionPeriod.validate(days)
        }
    }

    /// The origin (`scheme://host[:port]`) of `publicURL`, which cookie-authenticated writes must come from.
    public var publicOrigin: String? {
        guard let publicURL, let url = URL(string: publicURL), let scheme = url.scheme?.lowercased(),
              let host = url.host?.lowercased() else { return nil }
        return url.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }

    /// Cookies are `Secure` when people reach the server over https.
    public var cookiesAreSecure: Bool {
        publicURL?.lowercased().hasPrefix("https://") == true
    }

    public init(databaseURL: String, publicURL: String? = nil, statementTimeoutMilliseconds: Int = 10_000,
                bodyLimit: Int = 64 * 1024) {
        self.databaseURL = databaseURL
        self.publicURL = publicURL
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.bodyLimit = bodyLimit
    }

    /// Reads the `HITKEEP_…` variables of the process environment that have no option given.
    public static func fromEnvironment(databaseURL: String?) -> Configuration {
        let environment = ProcessInfo.processInfo.environment
        func number(_ name: String) -> Int? { environment[name].flatMap(Int.init) }
        var configuration = Configuration(
            databaseURL: databaseURL ?? environment["HITKEEP_DATABASE_URL"] ?? "postgresql:///hitkeep",
            publicURL: environment["HITKEEP_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 },
            statementTimeoutMilliseconds: number("HITKEEP_STATEMENT_TIMEOUT_MS") ?? 10_000
        )
        if let hours = number("HITKEEP_SESSION_HOURS") { configuration.sessionLifetime = TimeInterval(hours) * 3600 }
        if let days = number("HITKEEP_SESSION_MAX_DAYS") { configuration.sessionAbsoluteLifetime = TimeInterval(days) * 86_400 }
        if let count = number("HITKEEP_LOGIN_FAILURES_PER_EMAIL") { configuration.loginFailuresPerEmail = count }
        if let count = number("HITKEEP_LOGIN_FAILURES_PER_IP") { configuration.loginFailuresPerAddress = count }
        configuration.maximumTokenLifetimeDays = number("HITKEEP_TOKEN_MAX_DAYS")
        if let megabytes = number("HITKEEP_ROLLUP_INDEX_MINIMUM_MB"), megabytes >= 0 {
            configuration.rollupIndexMinimumBytes = megabytes << 20
        }
        configuration.retentionDaysSetting = environment["HITKEEP_RETENTION_DAYS"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.readDatabaseURL = environment["HITKEEP_READ_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let seconds = environment["HITKEEP_READ_MAX_LAG_SECONDS"].flatMap(Double.init), seconds >= 0 {
            configuration.readMaximumLagSeconds = seconds
        }
        // An unknown value stops `hitkeep serve` before it starts (ServeCommand.validate).
        configuration.databasePoolMode = DatabasePoolMode(environmentValue: environment["HITKEEP_DATABASE_POOL_MODE"]) ?? .session
        return configuration
    }
}
