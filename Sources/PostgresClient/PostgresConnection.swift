import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection, for one thread.
///
/// Statements run through `query` are prepared on first use and reused by name, unless the connection
/// is made with `preparesStatements: false` (a transaction-pooling PgBouncer lends each transaction
/// whichever server session is free, where no name prepared on another exists); they are then sent
/// unnamed, text and values together, and planned every time. The cache belongs to
/// the server session, so it is dropped whenever the connection is re-established. It holds at most
/// `preparedStatementLimit` statements: each costs the server session memory (a large statement's
/// parse and plan trees, some 100 KB and more) until it is deallocated, and statement texts that
/// vary with a request, such as a combination of stats filters, would otherwise grow it without end.
public final class PostgresConnection {
    public enum TransactionStatus: Sendable {
        case idle, active, inTransaction, inFailedTransaction, unknown
    }

    /// A statement prepared on the server, with when it was last used.
    private final class PreparedStatement {
        /// The server-side name, kept as a C string ready for libpq.
        let name: ContiguousArray<CChar>
        var lastUsed: UInt64

        init(name: ContiguousArray<CChar>, lastUsed: UInt64) {
            self.name = name
            self.lastUsed = lastUsed
        }
    }

    public static let defaultPreparedStatementLimit = 200

    private let parameters: [(String, String)]
    private var connection: OpaquePointer?
    /// The most statements kept prepared at once; the least recently used one goes first.
    public let preparedStatementLimit: Int
    /// Whether statements are prepared and reused by name, or sent unnamed each time.
    public let preparesStatements: Bool
    /// Prepared statements by the shape of their text (`PostgresQuery.Shape`): a statement the
    /// program writes again on every call is found without its text being assembled or read.
    private var preparedStatements: [PostgresQuery.Shape: PreparedStatement] = [:]
    /// Numbers the statements' names, and orders their uses.
    private var clock: UInt64 = 0

    /// Connects with libpq keywords; `dbname` may be a URI or a conninfo string, which libpq expands.
    /// Values are passed as separate strings (`PQconnectdbParams`), never spliced into one.
    public init(parameters: [(String, String)], preparedStatementLimit: Int = defaultPreparedStatementLimit,
                preparesStatements: Bool = true) throws {
        precondition(preparedStatementLimit > 0, "a connection keeps at least one prepared statement")
        self.parameters = parameters
        self.preparedStatementLimit = preparedStatementLimit
        self.preparesStatements = preparesStatements
        try connect()
    }

    /// How many statements are prepared on the server session now.
    public var preparedStatementCount: Int { preparedStatements.count }

    /// Connects to a libpq URI (`postgresql://…`) or conninfo string, with session settings added.
    public convenience init(url: String, applicationName: String = "hitkeep", settings: [String: String] = [:],
                            connectTimeoutSeconds: Int = 3,
                            preparedStatementLimit: Int = defaultPreparedStatementLimit,
                            preparesStatements: Bool = true) throws {
        var options = ""
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) {
            // libpq's options string separates with spaces; a backslash escapes one in a value.
            options += "-c \(name)=\(value.replacingSpacesForOptions()) "
        }
        try self.init(parameters: [
            ("dbname", url),
            ("application_name", applicationName),
            ("connect_timeout", String(connectTimeoutSeconds)),
            ("options", options),  // libpq sends none when it is empty
        ], preparedStatementLimit: preparedStatementLimit, preparesStatements: preparesStatements)
    }

    deinit {
        if let connection { PQfinish(connection) }
    }

    /// Why libpq cannot read `conninfo` (a URI or a `key=value` string), or nil when it can.
    public static func connectionStringProblem(_ conninfo: String) -> String? {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            defer { if let error { PQfreemem(error) } }
            return error.map { String(cString: $0).trimmingTrailingNewlines() } ?? "out of memory"
        }
        PQconninfoFree(options)
        return nil
    }

    private func connect() throws {
        if let connection { PQfinish(connection) }
        preparedStatements.removeAll()
        let keywords = parameters.map { strdup($0.0) } + [nil]
        let values = parameters.map { strdup($0.1) } + [nil]
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let connection = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordPointers in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                PQconnectdbParams(keywordPointers.baseAddress, valuePointers.baseAddress, 1)
            }
        }
        self.connection = connection
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            throw PostgresError(kind: .connectionFailure, message: message.trimmingTrailingNewlines())
        }
    }

    /// Whether the link is believed usable. A broken one is only noticed by the next statement.
    public var isConnected: Bool {
        guard let connection else { return false }
        return PQstatus(connection) == CONNECTION_OK
    }

    /// Drops and re-establishes the connection.
    public func reconnect() throws {
        try connect()
    }

    public var transactionStatus: TransactionStatus {
        guard let connection else { return .unknown }
        switch PQtransactionStatus(connection) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inFailedTransaction
        default: return .unknown
        }
    }

    /// Runs one statement, prepared on first use, and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            throw PostgresError(kind: .connectionFailure, message: "not connected")
        }
        // A C string ends at NUL, so libpq would silently cut such a value short: refuse it as the
        // server refuses NUL in text.
        if query.hasParameterWithNUL {
            throw PostgresError(kind: .server, sqlState: "22021", message: "a parameter contains a NUL byte")
        }
        guard preparesStatements else {
            let result = query.withParameterValues { values in
                PQexecParams(connection, query.sql, Int32(values.count), nil, values.baseAddress, nil, nil, 0)
            }
            return try check(result, connection: connection)
        }
        let name = try preparedName(for: query, connection: connection)
        let result = query.withParameterValues { values in
            name.withUnsafeBufferPointer {
                PQexecPrepared(connection, $0.baseAddress, Int32(values.count), values.baseAddress, nil, nil, 0)
            }
        }
        return try check(result, connection: connection)
    }

    /// The name the query's statement was prepared under, preparing it on first use (and making
    /// room for it first).
    private func preparedName(for query: PostgresQuery, connection: OpaquePointer) throws -> ContiguousArray<CChar> {
        clock &+= 1
        if let statement = preparedStatements[query.shape] {
            statement.lastUsed = clock
            return statement.name
        }
        if preparedStatements.count >= preparedStatementLimit {
            try deallocateLeastRecentlyUsed(connection: connection)
        }
        let name = "hk\(clock)".utf8CString
        let prepared = name.withUnsafeBufferPointer {
            PQprepare(connection, $0.baseAddress, query.sql, Int32(query.parameterCount), nil)
        }
        try check(prepared, connection: connection)
        preparedStatements[query.shape] = PreparedStatement(name: name, lastUsed: clock)
        return name
    }

    /// Frees the statement used longest ago, on the server and here. A linear search, as it runs
    /// only when a new statement comes in over the limit; the lookups above stay as they were.
    private func deallocateLeastRecentlyUsed(connection: OpaquePointer) throws {
        guard let (shape, statement) = preparedStatements.min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { return }
        // DEALLOCATE is not transactional: it stays done whatever becomes of a transaction it runs
        // in. A name is only ever one of ours (letters and digits), so it can be spelled out in the
        // text. Forgotten here only once the server has freed it, so that nothing is left behind.
        let name = String(decoding: statement.name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        try execute("DEALLOCATE " + name)
        preparedStatements[shape] = nil
    }

    /// Runs one or more statements without parameters through the simple query protocol (migrations,
    /// `BEGIN`, `COMMIT`). Returns the rows of the last one.
    @discardableResult
    public func execute(_ sql: String) throws -> PostgresRows {
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            throw PostgresError(kind: .connectionFailure, message: "not connected")
        }
        var last = PostgresRows(affectedRows: 0)
        guard PQsendQuery(connection, sql) == 1 else {
            throw PostgresError(kind: .connectionFailure, message: String(cString: PQerrorMessage(connection)))
        }
        var failure: PostgresError?
        while let result = PQgetResult(connection) {
            do {
                last = try check(result, connection: connection)
            } catch let error as PostgresError {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        if PQstatus(connection) != CONNECTION_OK {
            throw PostgresError(kind: .connectionFailure, message: String(cString: PQerrorMessage(connection)))
        }
        return last
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// - Parameter begin: what opens it; with its modes or `SET LOCAL`s after a semicolon, they
    ///   take the same round trip as the `BEGIN`.
    public func transaction<T>(begin: String = "BEGIN", _ body: () throws -> T) throws -> T {
        do {
            try execute(begin)
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if transactionStatus != .idle { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Returns to a clean state between requests: whatever was left open is rolled back.
    public func rollbackIfInTransaction() {
        switch transactionStatus {
        case .inTransaction, .inFailedTransaction: _ = try? execute("ROLLBACK")
        default: break
        }
    }

    /// Turns a result into rows, or into an error; the result is cleared either way.
    @discardableResult
    private func check(_ result: OpaquePointer?, connection: OpaquePointer) throws -> PostgresRows {
        guard let result else {
            throw PostgresError(kind: .connectionFailure, message: String(cString: PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(affectedRows: Self.affectedRows(result))
        case PGRES_TUPLES_OK:
            return Self.copyRows(result)
        default:
            // The PG_DIAG_* codes are character macros, which Swift does not import.
            func field(_ code: Unicode.Scalar) -> String? {
                PQresultErrorField(result, Int32(code.value)).map { String(cString: $0) }
            }
            let message = field("M") ?? String(cString: PQresultErrorMessage(result))
            let sqlState = field("C")
            if PQstatus(connection) != CONNECTION_OK {
                throw PostgresError(kind: .connectionFailure, sqlState: sqlState, message: message)
            }
            throw PostgresError(kind: .server, sqlState: sqlState, constraint: field("n"),
                                message: message)
        }
    }

    private static func affectedRows(_ result: OpaquePointer) -> Int {
        Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Copies names and values into one buffer: where each will lie is worked out first, so the
    /// buffer is allocated once at its size and filled with a plain copy for each.
    private static func copyRows(_ result: OpaquePointer) -> PostgresRows {
        let rowCount = Int32(PQntuples(result))
        let columnCount = Int32(PQnfields(result))
        var spans = [PostgresRows.Span]()
        spans.reserveCapacity(Int(rowCount + 1) * Int(columnCount))
        var total: Int32 = 0
        for column in 0..<columnCount {
            let length = Int32(strlen(PQfname(result, column)))
            spans.append(PostgresRows.Span(start: total, end: total + length))
            total += length
        }
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    spans.append(PostgresRows.Span(start: -1, end: -1))
                } else {
                    let length = PQgetlength(result, row, column)
                    spans.append(PostgresRows.Span(start: total, end: total + length))
                    total += length
                }
            }
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: Int(total)) { buffer, written in
            guard let base = buffer.baseAddress, total > 0 else { return }
            for column in 0..<columnCount {
                let span = spans[Int(column)]
                memcpy(base + Int(span.start), PQfname(result, column), Int(span.end - span.start))
            }
            for row in 0..<rowCount {
                for column in 0..<columnCount {
                    let span = spans[Int((row + 1) * columnCount + column)]
                    guard span.start >= 0 else { continue }
                    memcpy(base + Int(span.start), PQgetvalue(result, row, column), Int(span.end - span.start))
                }
            }
            written = Int(total)
        }
        return PostgresRows(bytes: bytes, spans: spans, columnCount: Int(columnCount), affectedRows: Int(rowCount))
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }

    fileprivate func replacingSpacesForOptions() -> String {
        var escaped = ""
        for character in self {
            if character == " " || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
