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
