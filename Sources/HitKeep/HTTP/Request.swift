import HTTPTypes

/// An HTTP request as the application sees it, built from the FastCGI parameters.
public struct Request: Sendable {
    public var method: HTTPRequest.Method
    /// The decoded path, without the query string (`DOCUMENT_URI`).
    public var path: String
    public var query: QueryParameters
    public var headers: RequestHeaders
    /// Every cookie of every `Cookie` header, in order.
    public var cookies: [(name: String, value: String)]
    public var body: [UInt8]
    /// The body was larger than the server accepts; `body` is empty.
    public var bodyExceededLimit: Bool
    public var remoteAddress: String?
    /// Correlates the log line, the response and any 500's detail.
    public var id: String
    /// Set when the transport could not make sense of the request (bad method, bad query string);
    /// the application answers with it instead of routing.
    public var rejection: HTTPProblem?

    public init(method: HTTPRequest.Method, path: String, query: QueryParameters = QueryParameters(),
                headers: RequestHeaders = RequestHeaders(), cookies: [(name: String, value: String)] = [], body: [UInt8] = [],
                bodyExceededLimit: Bool = false, remoteAddress: String? = nil, id: String = "-",
                rejection: HTTPProblem? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.cookies = cookies
        self.body = body
        self.bodyExceededLimit = bodyExceededLimit
        self.remoteAddress = remoteAddress
        self.id = id
        self.rejection = rejection
    }

    public func cookie(_ name: String) -> String? {
        cookies.first { $0.name == name }?.value
    }
}
