#if canImport(Glibc)
import Glibc
#endif

/// A statement and its parameters, written as one string interpolation:
///
///     let rows = try database.query("SELECT name FROM sites WHERE id = \(siteID) AND owner_id = \(userID)")
///
/// Every interpolated value becomes the next bind parameter (`$1`, `$2`, …) and is sent apart from the
/// text, so client input never becomes SQL. An interpolated query is spliced in with its parameters
/// numbered after those before it, so statements compose from fragments without anyone counting.
/// The text depends only on the literal parts and on which fragments were spliced, never on the
/// values, so a statement is prepared once per connection and reused with new values.
///
/// Text that is SQL but not a literal (a column name from a fixed list) goes in with
/// `\(unescaped:)`; it must never carry client input.
///
/// Building one assembles no text: the statement is kept as the pieces it was written in, its
/// `Shape`, by which a connection finds the statement it prepared, and the text with `$1`, `$2`, …
/// is written only to prepare it. The values are written as text at once, into the one buffer that
/// libpq is given.
public struct PostgresQuery: Sendable {
    /// The statement's text as written, with a place for each parameter.
    public private(set) var shape = Shape()
    /// The parameters' values in text format, each followed by a NUL byte.
    @usableFromInline var parameterBytes: [UInt8] = []
    /// Where each parameter's value starts in `parameterBytes`; -1 for NULL.
    private var parameterStarts: [Int32] = []
    /// Whether a value contains a NUL byte, which would cut it short as a C string.
    public private(set) var hasParameterWithNUL = false

    public init(unescaped sql: String) {
        shape.append(text: sql)
    }

    private init() {}

    /// The statement's text, with `$1`, `$2`, … where the parameters go.
    public var sql: String { shape.sql }

    public var parameterCount: Int { parameterStarts.count }

    /// The parameters' values in text format, nil for NULL, in order.
    public var parameters: [String?] {
        // Each value ends where the next begins, less its terminator: one may hold a NUL itself.
        var values: [String?] = []
        var end = parameterBytes.count
        for start in parameterStarts.reversed() {
            guard start >= 0 else {
                values.append(nil)
                continue
            }
            values.append(String(decoding: parameterBytes[Int(start)..<end - 1], as: UTF8.self))
            end = Int(start)
        }
        return values.reversed()
    }

    /// Calls `body` with a C string for each parameter (nil for NULL), as libpq takes them.
    public func withParameterValues<T>(_ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) throws -> T) rethrows -> T {
        try parameterBytes.withUnsafeBytes { bytes in
            try withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: parameterStarts.count) { values in
                for (index, start) in parameterStarts.enumerated() {
                    values[index] = start < 0 ? nil : (bytes.baseAddress! + Int(start)).assumingMemoryBound(to: CChar.self)
                }
                return try body(UnsafeBufferPointer(values))
            }
        }
    }

    /// Appends SQL text that the program wrote itself.
    public mutating func append(unescaped text: String) {
        shape.append(text: text)
    }

    /// Appends a value as the next parameter; nil is NULL. Inlinable, to be specialized for the
    /// value's type where it is called: a generic call across modules would look up the type's
    /// metadata on every call.
    @inlinable
    public mutating func append(binding value: (some PostgresEncodable)?) {
        guard let value else { return appendNull() }
        let start = beginParameter()
        value.appendPostgresText(to: &parameterBytes)
        endParameter(startingAt: start)
    }

    @usableFromInline
    mutating func appendNull() {
        shape.appendParameter()
        parameterStarts.append(-1)
    }

    /// Starts a parameter whose text is then appended to `parameterBytes`; returns where it starts.
    @usableFromInline
    mutating func beginParameter() -> Int {
        shape.appendParameter()
        if parameterStarts.capacity == 0 {
            // Room for the values of a typical statement at once, rather than growing a step at a time.
            parameterStarts.reserveCapacity(16)
            parameterBytes.reserveCapacity(256)
        }
        parameterStarts.append(Int32(parameterBytes.count))
        return parameterBytes.count
    }

    @usableFromInline
    mutating func endParameter(startingAt start: Int) {
        let length = parameterBytes.count - start
        if length > 0 && parameterBytes.withUnsafeBytes({ memchr($0.baseAddress! + start, 0, length) != nil }) {
            hasParameterWithNUL = true
        }
        parameterBytes.append(0)
    }

    /// Appends another query, its parameters numbered after this one's.
    public mutating func append(_ other: PostgresQuery) {
        shape.append(other.shape)
        if parameterStarts.isEmpty {
            // The common case of a fragment's values coming first: its buffers are shared, not copied.
            parameterStarts = other.parameterStarts
            parameterBytes = other.parameterBytes
        } else {
            let offset = Int32(parameterBytes.count)
            parameterBytes.append(contentsOf: other.parameterBytes)
            for start in other.parameterStarts {
                parameterStarts.append(start < 0 ? start : start + offset)
            }
        }
        hasParameterWithNUL = hasParameterWithNUL || other.hasParameterWithNUL
    }

    public static func + (left: PostgresQuery, right: PostgresQuery) -> PostgresQuery {
        var joined = left
        joined.append(right)
        return joined
    }

    /// The queries with `separator` between them, e.g. conditions joined by ` AND `.
    public static func joined(_ queries: some Sequence<PostgresQuery>, separator: String) -> PostgresQuery {
        var joined = PostgresQuery(unescaped: "")
        for (index, query) in queries.enumerated() {
            if index > 0 { joined.append(unescaped: separator) }
            joined.append(query)
        }
        return joined
    }
}

extension PostgresQuery {
    /// A statement's text as the pieces it was written in, with the places of its parameters: equal
    /// shapes are the same statement. A statement that the program writes again on every call, with
    /// new values, is made of the same string literals each time, and a literal is told apart by
    /// where it is stored, without its bytes being read. Text built at run time (a list of columns)
    /// is compared by its bytes, as it must be.
    public struct Shape: Hashable, Sendable {
        fileprivate enum Piece: Sendable {
            /// A literal of the program's source; its bytes lie in the binary and never change.
            case literal(StaticString)
            case text(String)
            case parameter
        }

        fileprivate var pieces: [Piece] = []
        /// A hash of the pieces, kept up as they are appended: a literal counts by where it is
        /// stored, a text by its length, so that it costs a multiplication a piece. Shapes that
        /// differ but hash alike are told apart by comparing their pieces.
        private var fingerprint = 0

        private mutating func append(_ piece: Piece) {
            let identity = switch piece {
            case .literal(let literal): Int(bitPattern: UInt(bitPattern: literal.utf8Start))
            case .text(let text): text.utf8.count
            case .parameter: -1
            }
            fingerprint = fingerprint &* 1_000_003 &+ identity
            pieces.append(piece)
        }

        fileprivate mutating func append(literal: StaticString) {
            guard literal.utf8CodeUnitCount > 0 else { return }
            // A one-character literal may come as a scalar rather than as stored bytes.
            guard literal.hasPointerRepresentation else { return append(text: literal.description) }
            append(.literal(literal))
        }

        fileprivate mutating func append(text: String) {
            guard !text.isEmpty else { return }
            append(.text(text))
        }

        fileprivate mutating func appendParameter() {
            append(.parameter)
        }

        fileprivate mutating func append(_ other: Shape) {
            guard !pieces.isEmpty else { return self = other }
            for piece in other.pieces { append(piece) }
        }

        fileprivate mutating func reserveCapacity(_ count: Int) {
            pieces.reserveCapacity(count)
        }

        /// The text, with `$1`, `$2`, … where the parameters go.
        public var sql: String {
            var text = ""
            var parameter = 0
            for piece in pieces {
                switch piece {
                case .literal(let literal):
                    literal.withUTF8Buffer { text.append(String(decoding: $0, as: UTF8.self)) }
                case .text(let piece):
                    text.append(piece)
                case .parameter:
                    parameter += 1
                    text.append("$")
                    text.append(String(parameter))
                }
            }
            return text
        }

        public static func == (left: Shape, right: Shape) -> Bool {
            guard left.fingerprint == right.fingerprint, left.pieces.count == right.pieces.count else { return false }
            for (one, other) in zip(left.pieces, right.pieces) {
                switch (one, other) {
                case (.literal(let one), .literal(let other)):
                    // The same literal, or one of the same bytes that the linker stored once.
                    guard one.utf8Start == other.utf8Start && one.utf8CodeUnitCount == other.utf8CodeUnitCount else {
                        return false
                    }
                case (.text(let one), .text(let other)):
                    guard one == other else { return false }
                case (.parameter, .parameter):
                    continue
                default:
                    // The same text written once as a literal and once built would be the same
                    // statement, prepared a second time: harmless, and no program here does it.
                    return false
                }
            }
            return true
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(fingerprint)
        }
    }
}

extension PostgresQuery: ExpressibleByStringInterpolation {
    /// Literals are kept as `StaticString`s: stored in the binary, they are copied and compared
    /// without reference counting or reading their bytes.
    public init(stringLiteral sql: StaticString) {
        shape.append(literal: sql)
    }

    public init(stringInterpolation: StringInterpolation) {
        self = stringInterpolation.query
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        @usableFromInline var query = PostgresQuery()

        public init(literalCapacity: Int, interpolationCount: Int) {
            query.shape.reserveCapacity(2 * interpolationCount + 1)
        }

        public mutating func appendLiteral(_ literal: StaticString) {
            query.shape.append(literal: literal)
        }

        /// A value: the next parameter.
        @inlinable
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            query.append(binding: value)
        }

        /// A value that may be missing: the next parameter, NULL when nil.
        @inlinable
        public mutating func appendInterpolation(_ value: (some PostgresEncodable)?) {
            query.append(binding: value)
        }

        /// A fragment, its parameters renumbered to follow those before it.
        public mutating func appendInterpolation(_ fragment: PostgresQuery) {
            query.append(fragment)
        }

        /// SQL text the program wrote itself (a column name from a fixed list); never client input.
        public mutating func appendInterpolation(unescaped text: String) {
            query.append(unescaped: text)
        }
    }
}
