import PostgresClient
import Scoreboard

/// Counts every error PostgreSQL or libpq reports to this process into the scoreboard, by kind.
public enum DatabaseErrorCounting {
    public static func start(_ count: @escaping (DatabaseErrorKind) -> Void) {
        PostgresErrorObserver.observe = { count(DatabaseErrorKind($0)) }
    }
}

extension DatabaseErrorKind {
    init(_ error: PostgresError) {
        if error.isUnavailable {
            self = .unavailable
        } else if error.kind == .decoding {
            self = .other
        } else if error.sqlState == "57014" {
            self = .statementTimeout
        } else if error.sqlState?.hasPrefix("23") == true {
            self = .integrity
        } else if error.sqlState?.hasPrefix("22") == true {
            self = .data
        } else {
            self = .other
        }
    }
}
