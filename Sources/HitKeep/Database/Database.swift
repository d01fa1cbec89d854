import PostgresClient

/// The worker's one PostgreSQL connection, made on first use and made again after it breaks, so a
/// worker recovers by itself when the database comes back.
public final class Database: PostgresQuerying {
    private let configuration: Configuration
    /// The primary's (`configuration.databaseURL`), or a standby's for lag-tolerant reads.
    private let url: String
    /// What `pg_stat_activity` shows the connection as.
    private let applicationName: String
    /// Whether a new connection must find the schema at `SchemaVersion.required`: a standby
    /// replays the primary's migrations and is only read while it is close behind.
    private let checksSchema: Bool
    private var current: PostgresConnection?
    /// Statements that succeeded since `beginRequest`, to know whether a failed request can be re-run.
    private(set) var statementsThisRequest = 0

    public init(configuration: Configuration, url: String? = nil, applicationName: String = "hitkeep",
                checksSchema: Bool = true) {
        self.configuration = configuration
        self.url = url ?? configuration.databaseURL
        self.applicationName = applicationName
        self.checksSchema = checksSchema
    }

    /// The live connection, connecting if there is none. A new one whose database is behind this
    /// build's schema is dropped again (`SchemaBehind`), so the next request checks anew.
    public func connection() throws -> PostgresConnection {
        if let current, current.isConnected { return current }
        current = nil
        let fresh = try configuration.databasePoolMode.connect(url: url, applicationName: applicationName, settings: [
            "statement_timeout": String(configuration.statementTimeoutMilliseconds),
            "idle_in_transaction_session_timeout": "60000",
        ])
        if checksSchema {
            let applied = try SchemaVersion.applied(on: fresh)
            guard applied >= SchemaVersion.required else {
                throw SchemaBehind(applied: applied, required: SchemaVersion.required)
            }
        }
        current = fresh
        return fresh
    }

    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        let rows = try run { try $0.query(query) }
        statementsThisRequest += 1
        return rows
    }

    /// Runs `body` in one transaction: all of a request's writes commit together or not at all.
    /// `begin` opens it (`PostgresConnection.transaction`).
    public func transaction<T>(begin: String = "BEGIN", _ body: () throws -> T) throws -> T {
        try run { try $0.transaction(begin: begin, body) }
    }

    private func run<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try self.connection()
        do {
            return try body(connection)
        } catch let error as PostgresError where error.isUnavailable {
            self.current = nil
            throw error
        }
    }

    /// Marks the start of a request.
    func beginRequest() {
        statementsThisRequest = 0
    }

    /// Leaves the connection clean for the next request: anything left open is rolled back.
    func endRequest() {
        current?.rollbackIfInTransaction()
    }

    /// Forgets a connection that has been seen to fail.
    func discardConnection() {
        current = nil
    }

    /// Whether a connection existed before this request (one that may have gone stale meanwhile).
    var hasConnection: Bool { current != nil }
}
