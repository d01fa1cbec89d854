/// A tool of the MCP endpoint (docs/API.md §12): a read of the REST API offered to an AI agent. Its
/// arguments are the REST endpoint's query parameters, from the same definitions the router checks
/// requests with, plus `site_id` where the endpoint's path has one; its result is the REST answer's
/// JSON, computed by the code that answers the REST request, with the same scopes and the same
/// site restrictions.
struct MCPTool: Sendable {
    /// What a tool runs with: the HTTP request (for its token), and the arguments as the REST
    /// endpoint would have received them.
    struct Call {
        var request: Request
        var context: RequestContext
        /// The `site_id` argument; empty for a tool that takes none.
        var siteID: String
        /// The other arguments, as query parameters.
        var query: QueryParameters
    }

    let name: String
    let title: String
    let description: String
    /// Whether it takes `site_id`, the REST endpoint's path parameter.
    let takesSite: Bool
    /// The REST endpoint's query parameters that it takes.
    let parameters: [QueryParameterDefinition]
    let run: @Sendable (Call) throws -> JSON

    /// Every argument, in the order `tools/list` shows them.
    var arguments: [QueryParameterDefinition] {
        takesSite ? [Self.siteArgument] + parameters : parameters
    }
}

extension MCPTool {
    static let siteArgument = QueryParameterDefinition("site_id", .text(minimumLength: 1), required: true,
                                                       "The site's id, as list_sites gives it.")

    /// Every tool, in the order `tools/list` lists them.
    static let all = [listSites, getStats, getBreakdown]

    static func named(_ name: String) -> MCPTool? {
        all.first { $0.name == name }
    }

    static let listSites = MCPTool(
        name: "list_sites", title: "List sites",
        description: """
            The sites this token may read, newest first: {"sites": [...]}, each as GET /api/sites lists it \
            (id, domain, name, timezone, created_at, role). Needs the sites:read scope.
            """,
        takesSite: false, parameters: []
    ) { call in
        // A result's structured content is an object, so the REST answer's array is wrapped in one.
        .object([("sites", try SitesController.visibleSites(for: call.request, .tokenOnly(.sitesRead), context: call.context))])
    }

    static let getStats = MCPTool(
        name: "get_stats", title: "Get a site's stats",
        description: """
            A site's numbers for a period, exactly as GET /api/sites/{site_id}/stats answers them: page views, \
            sessions, bounce rate, session duration and pages per session, live visitors, a chart, top lists per \
            dimension and the previous period. Counts are exact. The arguments are that endpoint's query \
            parameters. Needs the stats:read scope.
            """,
        takesSite: true, parameters: StatsRequest.parameters
    ) { call in
        let site = try SiteStore.site(call.siteID, for: call.request, .tokenOnly(.statsRead), context: call.context)
        return try StatsController.answer(site: site, query: try StatsRequest(call.query), context: call.context)
    }

    static let getBreakdown = MCPTool(
        name: "get_breakdown", title: "Break a site's stats down by one dimension",
        description: """
            Every value of one dimension (pages, landing or exit pages, referrers, devices, browsers, operating \
            systems, countries, languages, UTM tags) with its page views, visitors, bounce rate and session \
            duration, a page at a time, exactly as GET /api/sites/{site_id}/stats/breakdown answers in JSON; \
            pass next_cursor back as cursor for the next page. The arguments are that endpoint's query \
            parameters but format. Needs the stats:read scope.
            """,
        // CSV is a file for people to download, not a result for a model: `format` is left out.
        takesSite: true, parameters: BreakdownRequest.parameters.filter { $0.name != "format" }
    ) { call in
        let site = try SiteStore.site(call.siteID, for: call.request, .tokenOnly(.statsRead), context: call.context)
        return try BreakdownController.page(site: site, query: try BreakdownRequest(call.query), context: call.context)
    }
}

// MARK: - Listing

extension MCPTool {
    /// The tool as `tools/list` describes it. Every tool only reads, and only this server's data.
    var listing: JSON {
        .object([
            ("name", .string(name)), ("title", .string(title)), ("description", .string(description)),
            ("inputSchema", inputSchema),
            ("annotations", .object([("title", .string(title)), ("readOnlyHint", .bool(true)),
                                     ("destructiveHint", .bool(false)), ("idempotentHint", .bool(true)),
                                     ("openWorldHint", .bool(false))])),
        ])
    }

    /// The arguments as JSON Schema: an object of exactly these members.
    var inputSchema: JSON {
        var members: [(String, JSON)] = [
            ("type", .string("object")),
            ("properties", .object(arguments.map { ($0.name, $0.schema) })),
        ]
        let required = arguments.filter(\.isRequired).map { JSON.string($0.name) }
        if !required.isEmpty { members.append(("required", .array(required))) }
        members.append(("additionalProperties", .bool(false)))
        return .object(members)
    }
}

extension QueryParameterDefinition {
    /// The argument's JSON Schema: one value's, or for a repeatable parameter an array of them.
    var schema: JSON {
        var members: [(String, JSON)]
        if let maximumCount {
            members = [("type", .string("array")), ("items", .object(valueSchema)), ("maxItems", .int(maximumCount))]
        } else {
            members = valueSchema
        }
        if let defaultValue { members.append(("default", defaultValue)) }
        members.append(("description", .string(description)))
        return .object(members)
    }

    private var valueSchema: [(String, JSON)] {
        switch values {
        case .text(let pattern, let minimumLength):
            var members: [(String, JSON)] = [("type", .string("string"))]
            if let minimumLength { members.append(("minLength", .int(minimumLength))) }
            if let pattern { members.append(("pattern", .string(pattern))) }
            return members
        case .oneOf(let words):
            return [("type", .string("string")), ("enum", .array(words.map(JSON.string)))]
        case .integer(let range):
            return [("type", .string("integer")), ("minimum", .int(range.lowerBound)), ("maximum", .int(range.upperBound))]
        }
    }
}

// MARK: - Arguments

extension MCPTool {
    /// The call with `arguments` (a `tools/call`'s) as the REST endpoint would receive them: `site_id`
    /// as its path parameter, the rest as its query parameters, a repeatable one's array as the
    /// parameter repeated. Values are not judged here, but by the endpoint's own parser, with its
    /// codes; an unknown argument, or one of the wrong JSON type, is `invalid_parameter`, as an
    /// unknown query parameter is. A null argument counts as left out.
    func call(_ arguments: [(String, JSON)], request: Request, context: RequestContext) throws(DomainError) -> Call {
        let definitions = self.arguments
        var siteID: String?
        var pairs: [(name: String, value: String)] = []
        for (name, value) in arguments {
            guard let definition = definitions.first(where: { $0.name == name }) else {
                let known = definitions.isEmpty ? "this tool takes none" : "known: " + definitions.map(\.name).joined(separator: ", ")
                throw .invalid("invalid_parameter", "unknown argument \"\(JSONRPC.printable(name))\"; \(known)")
            }
            if case .null = value { continue }
            let values = try definition.queryValues(value)
            if name == Self.siteArgument.name {
                siteID = values.first
            } else {
                pairs += values.map { (name, $0) }
            }
        }
        if takesSite && siteID == nil {
            throw .invalid("invalid_parameter", "site_id is required: the id of a site, as list_sites gives it")
        }
        return Call(request: request, context: context, siteID: siteID ?? "", query: QueryParameters(pairs: pairs))
    }
}

extension QueryParameterDefinition {
    /// The query parameter values an argument stands for.
    func queryValues(_ argument: JSON) throws(DomainError) -> [String] {
        guard maximumCount != nil else { return [try queryValue(argument)] }
        guard case .array(let elements) = argument else {
            throw .invalid("invalid_parameter", "argument \(name) must be an array of \(kind)s, not \(argument.typeName)")
        }
        var values: [String] = []
        for element in elements {
            values.append(try queryValue(element))
        }
        return values
    }

    private func queryValue(_ value: JSON) throws(DomainError) -> String {
        switch (values, value) {
        case (.text, .string(let text)), (.oneOf, .string(let text)):
            return text
        case (.integer, .number(let number)) where number == number.rounded() && abs(number) < 1e15:
            return String(Int64(number))
        default:
            throw .invalid("invalid_parameter", "argument \(name) must be a \(kind), not \(value.typeName)")
        }
    }

    private var kind: String {
        if case .integer = values { return "whole number" }
        return "string"
    }
}
