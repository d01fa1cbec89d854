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
public struct PostgresQuery: Sendable {
    /// The text around the parameters: `parts[0]`, parameter 1, `parts[1]`, parameter 2, …
    private var parts: [String]
    /// The values of the parameters, in order; nil is NULL.
    public private(set) var bindings: [(any PostgresEncodable)?]

    public init(unescaped sql: String) {
        parts = [sql]
        bindings = []
    }

    /// The statement's text, with `$1`, `$2`, … where the parameters go.
    public var sql: String {
        guard parts.count > 1 else { return parts[0] }
        var text = parts[0]
        text.reserveCapacity(parts.reduce(0) { $0 + $1.utf8.count } + 4 * bindings.count)
        for index in 1..<parts.count {
            text.append("$")
            text.append(String(index))
            text.append(parts[index])
        }
        return text
    }

    /// Appends SQL text that the program wrote itself.
    public mutating func append(unescaped text: String) {
        parts[parts.count - 1].append(text)
    }

    /// Appends a value as the next parameter.
    public mutating func append(binding value: (any PostgresEncodable)?) {
        bindings.append(value)
        parts.append("")
    }

    /// Appends another query, its parameters numbered after this one's.
    public mutating func append(_ other: PostgresQuery) {
        parts[parts.count - 1].append(other.parts[0])
        parts.append(contentsOf: other.parts.dropFirst())
        bindings.append(contentsOf: other.bindings)
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

extension PostgresQuery: ExpressibleByStringInterpolation {
    public init(stringLiteral sql: String) {
        self.init(unescaped: sql)
    }

    public init(stringInterpolation: StringInterpolation) {
        self = stringInterpolation.query
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var query: PostgresQuery

        public init(literalCapacity: Int, interpolationCount: Int) {
            query = PostgresQuery(unescaped: "")
            query.parts.reserveCapacity(interpolationCount + 1)
            query.bindings.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            query.append(unescaped: literal)
        }

        /// A value: the next parameter.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            query.append(binding: value)
        }

        /// A value that may be missing: the next parameter, NULL when nil.
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
