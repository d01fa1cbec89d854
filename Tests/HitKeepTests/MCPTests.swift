import Foundation
import Logging
import Testing
@testable import HitKeep

/// The MCP endpoint's pieces that need no database (docs/API.md §12): reading JSON-RPC messages,
/// the tools' input schemas, which must be the REST endpoints' parameters, and turning arguments
/// into the query parameters the REST parsers read.
@Suite struct MCPTests {
    private static func parse(_ text: String) throws -> JSON {
        try JSONParser.parse(Array(text.utf8))
    }

    private static func message(_ text: String) throws -> Result<JSONRPC.Message, JSONRPC.Refusal> {
        JSONRPC.message(try parse(text))
    }

    // MARK: JSON-RPC

    @Test func readsRequestsNotificationsAndResponses() throws {
        guard case .success(.request(let id, let method, let params)) = try Self.message(
            #"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"x"}}"#) else {
            Issue.record("not a request"); return
        }
        #expect(id.encoded() == Array("7".utf8))
        #expect(method == "tools/list")
        #expect(params?["cursor"] != nil)
        guard case .success(.request(let stringID, _, nil)) = try Self.message(#"{"jsonrpc":"2.0","id":"a-1","method":"ping"}"#) else {
            Issue.record("not a request"); return
        }
        #expect(stringID.encoded() == Array(#""a-1""#.utf8))
        guard case .success(.notification("notifications/initialized")) = try Self.message(
            #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#) else {
            Issue.record("not a notification"); return
        }
        guard case .success(.response) = try Self.message(#"{"jsonrpc":"2.0","id":1,"result":{}}"#) else {
            Issue.record("not a response"); return
        }
    }

    @Test(arguments: [
        (#"[]"#, "null"), (#""ping""#, "null"), (#"{"id":1,"method":"ping"}"#, "1"),
        (#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, "1"), (#"{"jsonrpc":"2.0","id":1,"method":5}"#, "1"),
        (#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, "null"), (#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, "null"),
        (#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#, "null"), (#"{"jsonrpc":"2.0","id":1e300,"method":"ping"}"#, "null"),
        (#"{"jsonrpc":"2.0","id":2,"method":"ping","params":"x"}"#, "2"), (#"{"jsonrpc":"2.0","id":3}"#, "3"),
    ])
    func refusesWhatIsNoMessage(_ text: String, _ id: String) throws {
        guard case .failure(let refusal) = try Self.message(text) else {
            Issue.record("\(text) was taken"); return
        }
        #expect(refusal.failure.code == .invalidRequest)
        #expect(refusal.id.encoded() == Array(id.utf8))
    }

    @Test func writesResultsAndErrors() {
        #expect(JSONRPC.result(id: .int(1), .object([])).encoded() == Array(#"{"jsonrpc":"2.0","id":1,"result":{}}"#.utf8))
        let error = JSONRPC.error(id: .null, JSONRPC.Failure(.parseError, "bad", data: .array([])))
        #expect(error.encoded() == Array(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":[]}}"#.utf8))
    }

    // MARK: Schemas from the REST endpoints' parameters

    private static func properties(_ tool: MCPTool) -> [(String, JSON)] {
        guard case .object(let members)? = tool.inputSchema["properties"] else { return [] }
        return members
    }

    private static func strings(_ value: JSON?) -> [String] {
        guard case .array(let elements)? = value else { return [] }
        return elements.compactMap { if case .string(let text) = $0 { return text } else { return nil } }
    }

    @Test func getStatsTakesTheStatsParameters() throws {
        let properties = Self.properties(MCPTool.getStats)
        #expect(properties.map(\.0) == ["site_id"] + StatsRequest.parameterNames)
        let schema = JSON.object(properties)
        #expect(Self.strings(schema["interval"]?["enum"]) == StatsInterval.allCases.map(\.rawValue))
        #expect(Self.strings(schema["compare"]?["enum"]) == ["previous", "none"])
        #expect(schema["limit"]?["maximum"]?.encoded() == Array(String(StatsRequest.maximumLimit).utf8))
        #expect(schema["filter"]?["type"]?.encoded() == Array(#""array""#.utf8))
        #expect(schema["filter"]?["maxItems"]?.encoded() == Array(String(StatsRequest.maximumFilters).utf8))
        let description = try #require(schema["filter"]?["description"]).encoded()
        for filter in StatsDimension.filters {
            #expect(String(decoding: description, as: UTF8.self).contains(filter.name))
        }
        #expect(Self.strings(MCPTool.getStats.inputSchema["required"]) == ["site_id"])
        #expect(MCPTool.getStats.inputSchema["additionalProperties"]?.encoded() == Array("false".utf8))
    }

    @Test func getBreakdownTakesTheBreakdownParametersButFormat() {
        let properties = Self.properties(MCPTool.getBreakdown)
        #expect(properties.map(\.0) == ["site_id"] + BreakdownRequest.parameterNames.filter { $0 != "format" })
        let schema = JSON.object(properties)
        #expect(Self.strings(schema["dimension"]?["enum"]) == StatsDimension.breakdowns.map(\.breakdownName))
        #expect(Self.strings(schema["order_by"]?["enum"]) == BreakdownRequest.Metric.allCases.map(\.rawValue))
        #expect(Self.strings(MCPTool.getBreakdown.inputSchema["required"]) == ["site_id", "dimension"])
    }

    @Test func listSitesTakesNothing() {
        #expect(Self.properties(MCPTool.listSites).isEmpty)
        #expect(MCPTool.listSites.inputSchema["required"] == nil)
    }

    /// docs/openapi.json describes `POST /api/mcp` with each tool's arguments; they must be the tools'.
    @Test func theOpenAPIDocumentHasTheToolsArguments() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.json")
        let document = try Self.parse(String(decoding: try Data(contentsOf: url), as: UTF8.self))
        guard case .array(let messages)? = document["components"]?["schemas"]?["MCPMessage"]?["oneOf"] else {
            Issue.record("no MCPMessage schema"); return
        }
        let call = try #require(messages.first { $0["properties"]?["method"]?["const"]?.encoded() == Array(#""tools/call""#.utf8) })
        guard case .array(let tools)? = call["properties"]?["params"]?["oneOf"] else { Issue.record("no tools"); return }
        var documented: [String] = []
        for tool in tools {
            guard case .string(let name)? = tool["properties"]?["name"]?["const"],
                  case .object(let arguments)? = tool["properties"]?["arguments"]?["properties"] else { continue }
            documented.append(name)
            #expect(arguments.map(\.0) == MCPTool.named(name)?.arguments.map(\.name), "\(name)")
        }
        #expect(documented == MCPTool.all.map(\.name))
    }

    // MARK: Arguments

    private static func call(_ tool: MCPTool, _ arguments: String) throws -> MCPTool.Call {
        guard case .object(let members) = try parse(arguments) else { throw DomainError.invalid("test", "not an object") }
        let configuration = Configuration(databaseURL: "")
        let logger = Logger(label: "test")
        let reads = LagTolerantReads(primary: Database(configuration: configuration), configuration: configuration, logger: logger)
        let context = RequestContext(lagTolerantReads: reads, configuration: configuration, logger: logger, now: Date())
        return try tool.call(members, request: Request(method: .post, path: "/api/mcp"), context: context)
    }

    @Test func argumentsBecomeTheQueryParameters() throws {
        let call = try Self.call(MCPTool.getStats, #"""
            {"site_id":"01JFKQ4Z7W3M9X0C5T2V8B6N1R","from":"2026-10-01","filter":["path:/a","device:mobile"],
             "limit":25,"interval":null}
            """#)
        #expect(call.siteID == "01JFKQ4Z7W3M9X0C5T2V8B6N1R")
        #expect(call.query.pairs.map { "\($0.name)=\($0.value)" } == ["from=2026-10-01", "filter=path:/a", "filter=device:mobile", "limit=25"])
        let request = try StatsRequest(call.query)
        #expect(request.limit == 25)
        #expect(request.filters.count == 2)
        #expect(try Self.call(MCPTool.listSites, "{}").query.pairs.isEmpty)
    }

    @Test(arguments: [
        (#"{"from":"2026-10-01"}"#, "site_id is required: the id of a site, as list_sites gives it"),
        (#"{"site_id":"S","limit":"10"}"#, "argument limit must be a whole number, not string"),
        (#"{"site_id":"S","limit":2.5}"#, "argument limit must be a whole number, not number"),
        (#"{"site_id":"S","filter":"path:/"}"#, "argument filter must be an array of strings, not string"),
        (#"{"site_id":"S","filter":[1]}"#, "argument filter must be a string, not number"),
        (#"{"site_id":7}"#, "argument site_id must be a string, not number"),
        (#"{"site_id":"S","fliter":[]}"#, "unknown argument \"fliter\"; known: site_id, from, to, timezone, interval, filter, compare, limit"),
    ])
    func refusesArgumentsOfTheWrongForm(_ arguments: String, _ detail: String) {
        do {
            _ = try Self.call(MCPTool.getStats, arguments)
            Issue.record("\(arguments) was taken")
        } catch let refusal as DomainError {
            #expect(refusal.code == "invalid_parameter")
            #expect(refusal.detail == detail)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func toolsThatTakeNoArgumentsSaySo() {
        #expect(throws: DomainError.invalid("invalid_parameter", "unknown argument \"site_id\"; this tool takes none")) {
            try Self.call(MCPTool.listSites, #"{"site_id":"S"}"#)
        }
    }
}
