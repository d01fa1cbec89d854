/// One query parameter an endpoint takes: its name, the form of its values and a sentence for
/// people. An endpoint's list of them is the one declaration of its parameters: the router refuses
/// any other name (`Endpoint`), and the MCP tools that answer as the endpoint does describe their
/// arguments with the same list as JSON Schema (`MCPTool`, docs/API.md §12). What a value means,
/// and whether it is acceptable, stays with the endpoint's own parser (`StatsRequest`, …): the
/// definition only says what to send.
public struct QueryParameterDefinition: Sendable {
    public enum Values: Sendable {
        /// Text, which the endpoint's parser judges; optionally of this form (a regular expression)
        /// and at least this many characters long.
        case text(pattern: String? = nil, minimumLength: Int? = nil)
        /// One of these words.
        case oneOf([String])
        /// A whole number in the range.
        case integer(ClosedRange<Int>)
    }

    public let name: String
    public let values: Values
    /// How often the parameter may be given (`filter=…&filter=…`); nil when only once.
    public let maximumCount: Int?
    public let isRequired: Bool
    /// The value the endpoint assumes when the parameter is left out, where it is a fixed one.
    public let defaultValue: JSON?
    public let description: String

    public init(_ name: String, _ values: Values, maximumCount: Int? = nil, required: Bool = false, default defaultValue: JSON? = nil,
                _ description: String) {
        self.name = name
        self.values = values
        self.maximumCount = maximumCount
        self.isRequired = required
        self.defaultValue = defaultValue
        self.description = description
    }
}
