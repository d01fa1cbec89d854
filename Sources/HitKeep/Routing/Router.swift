import HTTPTypes

/// Routes as data: a method and a path pattern to a handler.
public struct Router<Handler: Sendable>: Sendable {
    public enum Resolution {
        case matched(Handler, parameters: [String: String])
        /// The path exists, but not for this method; the methods that do exist, for `Allow`.
        case methodNotAllowed(allowed: [HTTPRequest.Method])
        case notFound
    }

    private struct Route: Sendable {
        let method: HTTPRequest.Method
        let pattern: PathPattern
        let handler: Handler
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: HTTPRequest.Method, _ pattern: String, _ handler: Handler) {
        routes.append(Route(method: method, pattern: PathPattern(pattern), handler: handler))
    }

    public func resolve(_ method: HTTPRequest.Method, path: String) -> Resolution {
        // A trailing slash names a different resource; empty segments make the path unknown.
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard path.hasPrefix("/"), !segments.contains(where: \.isEmpty) else { return .notFound }
        let parts = Array(segments)
        var allowed: [HTTPRequest.Method] = []
        for route in routes {
            guard let parameters = route.pattern.match(parts) else { continue }
            if route.method == method { return .matched(route.handler, parameters: parameters) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }
}
