/// What went wrong talking to PostgreSQL.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached, or the connection broke: the caller may retry later.
        case connectionFailure
        /// The server refused the statement; `sqlState` says why.
        case server
        /// A value could not be decoded into the requested Swift type.
        case decoding
    }

    public var kind: Kind
    /// The five-character SQLSTATE, for server errors.
    public var sqlState: String?
    /// The constraint named by the server, for integrity violations.
    public var constraint: String?
    /// The server's or libpq's message. It may quote values: log it, never show it to a client.
    public var message: String

    public init(kind: Kind, sqlState: String? = nil, constraint: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.constraint = constraint
        self.message = message
        PostgresErrorObserver.observe?(self)
    }

    public var description: String {
        switch kind {
        case .connectionFailure: "connection failure: \(message)"
        case .server: "server error \(sqlState ?? "?????"): \(message)"
        case .decoding: "decoding error: \(message)"
        }
    }

    /// SQLSTATE 23505.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// SQLSTATE 23503.
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// Class 08 (connection exception), 57P01..57P03 (shutdown, cannot connect now), or a broken link.
    public var isUnavailable: Bool {
        if kind == .connectionFailure { return true }
        guard let state = sqlState else { return false }
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }
}
