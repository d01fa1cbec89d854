import HTTPTypes
import PostgresClient

/// `POST /api/mcp` (docs/API.md §12): the Model Context Protocol's Streamable HTTP transport, for
/// AI agents. Every answer is one JSON document (never an event stream), and the server keeps no
/// session: each request is authenticated by its own API client token, and any request may come
/// first. `GET` is 405 (`Allow: POST`): the server has nothing to send unasked.
///
/// HTTP status: 202 without a body for notifications and responses; 200 for an answered request,
/// also when the answer is a JSON-RPC error (unknown method, invalid params); 400 with a JSON-RPC
/// error for a body that cannot be taken as a message at all (malformed JSON, not JSON-RPC, a
/// batch where the protocol version has none, an unsupported `MCP-Protocol-Version`), as the
/// transport asks for; the API's problem documents for what happens before the body is read
/// (401, 403, 413) and for failures of the server.
enum MCPController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.post, "/api/mcp", handle)
    }

    /// The protocol versions spoken, newest first.
    static let protocolVersions = ["2025-11-25", "2025-06-18", "2025-03-26"]
    /// The version of a request without `MCP-Protocol-Version`, as the transport says to assume.
    static let versionWithoutHeader = "2025-03-26"
    /// The one version with JSON-RPC batches: 2025-06-18 removed them.
    static let batchingVersion = "2025-03-26"
    /// Messages a batch may hold: each tool call may be a stats question of its own.
    static let maximumBatch = 16

    static let serverName = "hitkeep"
    static let instructions = """
        HitKeep web analytics, read-only. list_sites gives the sites this token may read, with their ids and \
        time zones; get_stats a site's numbers for a period (totals, a chart, top lists, the previous period); \
        get_breakdown every value of one dimension with its numbers, a page at a time. Ranges are [from, to): \
        RFC 3339 times, or YYYY-MM-DD dates in the site's time zone (or the timezone argument).
        """

    private static let originHeader = HTTPField.Name("origin")!
    private static let versionHeader = HTTPField.Name("mcp-protocol-version")!

    @Sendable static func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        // The transport's defence against DNS rebinding: a browser's request from another origin.
        if let origin = request.headers[originHeader],
           !CSRFGuard.originMatches(origin.lowercased(), request: request, configuration: context.configuration) {
            throw HTTPProblem(.forbidden, code: "csrf_rejected", detail: "cross-origin request refused")
        }
        // Every request, whatever its body, by a valid token: a revoked one is refused at once.
        _ = try context.authenticate(request, .tokenOnly(nil))

        let body: JSON
        do {
            body = try JSONParser.parse(request.body)
        } catch {
            let message = request.body.isEmpty ? "the body is empty; send a JSON-RPC message" : "malformed JSON: \(error.reason)"
            return refusal(JSONRPC.Failure(.parseError, message))
        }
        // `initialize` negotiates a version in its body (clients send no header with it); every other
        // message is read under the header's. A header naming a version not spoken here is 400
        // whatever the message, as the transport asks.
        let headerVersion = request.headers[versionHeader]
        let version = headerVersion ?? versionWithoutHeader
        if let headerVersion, !protocolVersions.contains(headerVersion) {
            return refusal(JSONRPC.Failure(.invalidRequest,
                                           "unsupported MCP-Protocol-Version \"\(JSONRPC.printable(headerVersion))\"",
                                           data: .object([("supported", .array(protocolVersions.map(JSON.string)))])))
        }

        guard case .array(let messages) = body else {
            switch JSONRPC.message(body) {
            case .failure(let refused):
                return refusal(refused.failure, id: refused.id)
            case .success(.notification), .success(.response):
                return Response(status: .accepted)
            case .success(.request(let id, let method, let params)):
                return .json(try answer(id: id, method: method, params: params, request: request, context: context))
            }
        }
        guard version == batchingVersion else {
            return refusal(JSONRPC.Failure(.invalidRequest,
                                           "protocol version \(version) has no batches; send one message per request"))
        }
        guard !messages.isEmpty, messages.count <= maximumBatch else {
            return refusal(JSONRPC.Failure(.invalidRequest, "a batch holds 1 to \(maximumBatch) messages"))
        }
        var answers: [JSON] = []
        for message in messages {
            switch JSONRPC.message(message) {
            case .failure(let refused):
                answers.append(JSONRPC.error(id: refused.id, refused.failure))
            case .success(.request(let id, "initialize", _)):
                answers.append(JSONRPC.error(id: id, JSONRPC.Failure(.invalidRequest, "initialize may not be part of a batch")))
            case .success(.request(let id, let method, let params)):
                answers.append(try answer(id: id, method: method, params: params, request: request, context: context))
            case .success(.notification), .success(.response):
                break
            }
        }
        return answers.isEmpty ? Response(status: .accepted) : .json(.array(answers))
    }

    /// 400 with a JSON-RPC error: the body is not a message the endpoint can take.
    private static func refusal(_ failure: JSONRPC.Failure, id: JSON = .null) -> Response {
        .json(JSONRPC.error(id: id, failure), status: .badRequest)
    }

    /// The response to one request: its result, or the JSON-RPC error it is refused with. Other
    /// failures (the token refused meanwhile, the database gone) end the HTTP request with theirs.
    static func answer(id: JSON, method: String, params: JSON?, request: Request, context: RequestContext) throws -> JSON {
        do {
            return JSONRPC.result(id: id, try result(method: method, params: params, request: request, context: context))
        } catch let failure as JSONRPC.Failure {
            return JSONRPC.error(id: id, failure)
        }
    }

    private static func result(method: String, params: JSON?, request: Request, context: RequestContext) throws -> JSON {
        let members: [(String, JSON)]
        switch params {
        case nil, .null?: members = []
        case .object(let given)?: members = given
        default: throw JSONRPC.Failure(.invalidParams, "params must be an object")
        }
        let params = JSON.object(members)
        switch method {
        case "initialize":
            guard case .string(let asked)? = params["protocolVersion"] else {
                throw JSONRPC.Failure(.invalidParams, "initialize needs params.protocolVersion, a string")
            }
            return .object([
                // The client's version if spoken here, else the newest, which the client may refuse.
                ("protocolVersion", .string(protocolVersions.contains(asked) ? asked : protocolVersions[0])),
                ("capabilities", .object([("tools", .object([]))])),
                ("serverInfo", .object([("name", .string(serverName)), ("version", .string(Configuration.version))])),
                ("instructions", .string(instructions)),
            ])
        case "ping":
            return .object([])
        case "tools/list":
            // One page holds every tool: a cursor is never given out, so none is read.
            return .object([("tools", .array(MCPTool.all.map(\.listing)))])
        case "tools/call":
            guard case .string(let name)? = params["name"] else {
                throw JSONRPC.Failure(.invalidParams, "tools/call needs params.name, a string")
            }
            guard let tool = MCPTool.named(name) else {
                throw JSONRPC.Failure(.invalidParams, "unknown tool \"\(JSONRPC.printable(name))\"; tools: "
                                      + MCPTool.all.map(\.name).joined(separator: ", "))
            }
            let arguments: [(String, JSON)]
            switch params["arguments"] {
            case nil, .null?: arguments = []
            case .object(let given)?: arguments = given
            case let other?: throw JSONRPC.Failure(.invalidParams, "params.arguments must be an object, not \(other.typeName)")
            }
            return try call(tool, arguments: arguments, request: request, context: context)
        default:
            throw JSONRPC.Failure(.methodNotFound, "method \"\(JSONRPC.printable(method))\" not found; this server has "
                                  + "initialize, ping, tools/list and tools/call")
        }
    }

    /// A `tools/call` result: the tool's JSON as structured content and as text. Whatever the REST
    /// endpoint would refuse with a problem document (a bad argument, a site the token may not see,
    /// a scope it lacks, a question too large) is a result with `isError`, holding that document,
    /// so that the agent reads the `code` and `detail` and can correct itself.
    static func call(_ tool: MCPTool, arguments: [(String, JSON)], request: Request, context: RequestContext) throws -> JSON {
        do {
            return toolResult(try tool.run(try tool.call(arguments, request: request, context: context)), isError: false)
        } catch {
            guard let problem = ProblemMapping.problem(for: error), problem.status != .unauthorized,
                  !((error as? PostgresError)?.isUnavailable ?? false) else { throw error }
            return toolResult(.object([
                ("type", .string("about:blank")), ("status", .int(problem.status.code)),
                ("title", .string(problem.status.reasonPhrase)), ("detail", .string(problem.detail)),
                ("code", .string(problem.code)),
            ]), isError: true)
        }
    }

    private static func toolResult(_ value: JSON, isError: Bool) -> JSON {
        .object([
            ("content", .array([.object([("type", .string("text")),
                                         ("text", .string(String(decoding: value.encoded(), as: UTF8.self)))])])),
            ("structuredContent", value),
            ("isError", .bool(isError)),
        ])
    }
}
