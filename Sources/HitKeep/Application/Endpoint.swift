import HTTPTypes

/// What a route leads to: its handler, and the query parameters it understands. Any other query
/// parameter is refused before the handler runs (400 `invalid_parameter`), so that a misspelled
/// `fliter=` or `timezon=` is reported rather than silently ignored.
public struct Endpoint: Sendable {
    let handle: RouteHandler
    /// nil: any, for endpoints that monitors call with cache-busting parameters of their own.
    /// `OpenAPIDocumentTests` holds docs/openapi.json to these.
    let queryParameters: [QueryParameterDefinition]?
    private let queryParameterNames: [String]?

    init(handle: @escaping RouteHandler, queryParameters: [QueryParameterDefinition]?) {
        self.handle = handle
        self.queryParameters = queryParameters
        self.queryParameterNames = queryParameters?.map(\.name)
    }

    /// The problem for a request with a query parameter this endpoint does not know, if it has one.
    func unknownParameter(in query: QueryParameters) -> DomainError? {
        guard let known = queryParameterNames, let unknown = query.names.first(where: { !known.contains($0) }) else { return nil }
        let shown = String(String.UnicodeScalarView(unknown.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }).prefix(40))
        let listed = known.isEmpty ? "this endpoint takes none" : "known: " + known.joined(separator: ", ")
        return .invalid("invalid_parameter", "unknown query parameter \"\(shown)\"; \(listed)")
    }
}

extension Router where Handler == Endpoint {
    /// Adds a route whose handler takes the query parameters `query` (none by default; nil for any).
    mutating func add(_ method: HTTPRequest.Method, _ pattern: String, query: [QueryParameterDefinition]? = [],
                      _ handler: @escaping RouteHandler) {
        add(method, pattern, Endpoint(handle: handler, queryParameters: query))
    }
}
