import PostgresClient

/// What lies between the workers and PostgreSQL (`HITKEEP_DATABASE_POOL_MODE`).
public enum DatabasePoolMode: String, Sendable, CaseIterable {
    /// Each worker keeps a server session of its own, directly or through a session-pooling
    /// PgBouncer: statements are prepared once and reused, settings travel in the startup packet.
    case session
    /// A transaction-pooling PgBouncer: a worker's consecutive transactions may run on different
    /// server sessions, so nothing it leaves on one may be needed later. Statements go unnamed,
    /// with their text, every time; TimeZone and DateStyle are SET once, which PgBouncer tracks
    /// and repeats on each server session it lends the worker. `statement_timeout` is not among the
    /// settings PgBouncer tracks, so it comes from the role's defaults (README, "PgBouncer").
    case transaction

    /// The value of `HITKEEP_DATABASE_POOL_MODE`; unset or empty is `session`, anything else unknown
    /// is nil.
    public init?(environmentValue: String?) {
        guard let value = environmentValue, !value.isEmpty else {
            self = .session
            return
        }
        self.init(rawValue: value.lowercased())
    }
}

extension DatabasePoolMode {
    /// What every connection needs: timestamps come back in the ISO style, in UTC, the one form
    /// `PostgresTimestamp` reads.
    private static let timestampSettings = ["TimeZone": "UTC", "DateStyle": "ISO"]

    /// Connects as this mode allows. On a session of its own, `settings` travel in the startup
    /// packet with the timestamp settings. A transaction-pooling PgBouncer refuses startup options
    /// and repeats only the settings the server reports back (TimeZone and DateStyle among them),
    /// so only those are SET, and `settings` come from the role's defaults.
    public func connect(url: String, applicationName: String, settings: [String: String] = [:]) throws -> PostgresConnection {
        switch self {
        case .session:
            return try PostgresConnection(url: url, applicationName: applicationName,
                                          settings: settings.merging(Self.timestampSettings) { _, required in required })
        case .transaction:
            let connection = try PostgresConnection(url: url, applicationName: applicationName, preparesStatements: false)
            try connection.execute("SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO'")
            return connection
        }
    }
}
