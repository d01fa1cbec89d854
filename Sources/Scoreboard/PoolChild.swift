/// The kinds of process a pool's supervisor starts.
public enum PoolChild: Int, CaseIterable, Sendable {
    case worker = 0
    case rollUp = 1

    public var name: String {
        switch self {
        case .worker: "worker"
        case .rollUp: "roll-up"
        }
    }
}

/// Why the supervisor started a process in the place of another.
public enum RespawnReason: Int, CaseIterable, Sendable {
    /// A worker retired after `--max-requests` and exited cleanly.
    case maxRequests = 0
    /// A worker was busy on one request past `--request-timeout` and was killed.
    case requestTimeout
    /// Killed by a signal it was not sent by the supervisor (an operator's kill -9, the OOM killer, a crash).
    case signal
    /// Exited with a failure status (a failed accept, a failed start).
    case exitStatus
    /// Replaced by a rolling restart (SIGHUP).
    case reload

    public var name: String {
        switch self {
        case .maxRequests: "max_requests"
        case .requestTimeout: "request_timeout"
        case .signal: "signal"
        case .exitStatus: "exit_status"
        case .reload: "reload"
        }
    }
}

/// Database errors by what an operator does about them.
public enum DatabaseErrorKind: Int, CaseIterable, Sendable {
    /// The server could not be reached or the connection broke (SQLSTATE class 08, 57P01-03).
    case unavailable = 0
    /// A statement ran past `statement_timeout` or was cancelled (57014).
    case statementTimeout
    /// A constraint refused a write (class 23): mostly expected, such as a name already taken.
    case integrity
    /// A value PostgreSQL refused as data (class 22): a client's input.
    case data
    /// Anything else, a decoding error included.
    case other

    public var name: String {
        switch self {
        case .unavailable: "unavailable"
        case .statementTimeout: "statement_timeout"
        case .integrity: "integrity"
        case .data: "data"
        case .other: "other"
        }
    }
}
