/// JSON-RPC 2.0 messages as the Model Context Protocol uses them (docs/API.md §12), read from and
/// written to the project's own `JSON` values.
///
/// The MCP Swift SDK has these types too, but as `Codable` models for Foundation's coders and with
/// transports that expect a long-running asynchronous server; a FastCGI worker answers one request
/// at a time, synchronously, and the endpoint needs five methods. Reading the messages with the
/// project's strict parser (`JSONParser`) and writing them with its writer keeps one JSON stack
/// for the whole server: a tool's result is the REST answer's own `JSON` value.
enum JSONRPC {
    /// The error codes of JSON-RPC 2.0 that the endpoint answers with.
    enum ErrorCode: Int {
        case parseError = -32700
        case invalidRequest = -32600
        case methodNotFound = -32601
        case invalidParams = -32602
    }

    /// An error to answer a message with.
    struct Failure: Error {
        var code: ErrorCode
        var message: String
        var data: JSON?

        init(_ code: ErrorCode, _ message: String, data: JSON? = nil) {
            self.code = code
            self.message = message
            self.data = data
        }
    }

    /// A message a client sent.
    enum Message {
        /// A request, to be answered with a result or an error under its `id` (a string or a whole
        /// number, echoed as it came); `params` is nil when it had none.
        case request(id: JSON, method: String, params: JSON?)
        /// A notification: never answered.
        case notification(method: String)
        /// A response to a request of the server's. This server sends none; it is acknowledged and ignored.
        case response
    }

    /// The largest whole number an id may be: every integer up to it is exactly a `Double`, as the
    /// parser reads numbers, so it is echoed exactly.
    private static let largestID = 9_007_199_254_740_991.0

    /// The message `value` is, or the error to answer it with and the id to answer under (null when
    /// it has no usable one).
    static func message(_ value: JSON) -> Result<Message, Refusal> {
        guard case .object = value else {
            return .failure(Refusal(id: .null, Failure(.invalidRequest, "a JSON-RPC message is an object, not \(value.typeName)")))
        }
        let rawID = value["id"]
        let id = rawID.flatMap(validID) ?? .null
        func refuse(_ message: String) -> Result<Message, Refusal> {
            .failure(Refusal(id: id, Failure(.invalidRequest, message)))
        }
        guard case .string("2.0")? = value["jsonrpc"] else { return refuse("jsonrpc must be \"2.0\"") }
        if let method = value["method"] {
            guard case .string(let name) = method else { return refuse("method must be a string") }
            let params = value["params"]
            if let params {
                switch params {
                case .object, .array: break
                default: return refuse("params must be an object or an array")
                }
            }
            guard let rawID else { return .success(.notification(method: name)) }
            guard validID(rawID) != nil else {
                return refuse("id must be a string or a whole number from -(2^53 - 1) to 2^53 - 1")
            }
            return .success(.request(id: id, method: name, params: params))
        }
        if rawID != nil, value["result"] != nil || value["error"] != nil {
            return .success(.response)
        }
        return refuse("a message needs a method (a request or notification), or a result or an error (a response)")
    }

    /// An error for a message, under the id to answer it with.
    struct Refusal: Error {
        var id: JSON
        var failure: Failure

        init(id: JSON, _ failure: Failure) {
            self.id = id
            self.failure = failure
        }
    }

    private static func validID(_ id: JSON) -> JSON? {
        switch id {
        case .string: return id
        case .number(let value) where value == value.rounded() && abs(value) <= largestID: return id
        default: return nil
        }
    }

    static func result(id: JSON, _ result: JSON) -> JSON {
        .object([("jsonrpc", .string("2.0")), ("id", id), ("result", result)])
    }

    static func error(id: JSON, _ failure: Failure) -> JSON {
        var error: [(String, JSON)] = [("code", .int(failure.code.rawValue)), ("message", .string(failure.message))]
        if let data = failure.data { error.append(("data", data)) }
        return .object([("jsonrpc", .string("2.0")), ("id", id), ("error", .object(error))])
    }

    /// Names quoted back to the client lose control characters and excess length.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }).prefix(64))
    }
}
