import HTTPTypes

/// Where a request's header fields are read from, one at a time, when a handler asks for one: the
/// transport's parameters (CGI style: `CONTENT_TYPE`, `HTTP_USER_AGENT`), or fields a test built.
public protocol RequestHeaderSource: Sendable {
    /// A CGI meta-variable such as `CONTENT_TYPE`.
    subscript(_ variable: String) -> String? { get }
    /// Calls `body` with each value of the header named `name` (lower case), in the order received.
    func forEachHeader(named name: String, _ body: (String) -> Void)
}

/// The header fields of a request, read from their source when a handler asks for one.
///
/// The web server passes a dozen headers or so and a handler reads two or three, so building every
/// field up front (validating names, lowercasing, copying values) is work mostly thrown away.
/// Lookups answer as `HTTPFields` would have for the same request: repeated fields are joined with
/// `, `, values are legalized the same way, and `Cookie` is absent because cookies are parsed into
/// `Request.cookies`. `Content-Type` is `CONTENT_TYPE` alone when the server sets it: nginx passes
/// the header a second time as `HTTP_CONTENT_TYPE`, and the two joined would be one media type twice.
public struct RequestHeaders: Sendable {
    private let source: any RequestHeaderSource

    public init(source: any RequestHeaderSource) {
        self.source = source
    }

    public init() {
        self.init([])
    }

    /// Headers given by name, as a test or a tool builds a request.
    public init(_ fields: [(name: HTTPField.Name, value: String)]) {
        self.init(source: GivenHeaders(fields: fields.map { ($0.name.canonicalName, $0.value) }))
    }

    public subscript(name: HTTPField.Name) -> String? {
        if name == .cookie { return nil }
        if name == .contentType, let contentType = source["CONTENT_TYPE"], !contentType.isEmpty {
            return Self.legal(contentType, name)
        }
        var combined: String?
        // A closure written in place: a local function passed instead would keep `combined` in a
        // heap box, an allocation for every header looked up.
        source.forEachHeader(named: name.canonicalName) { value in
            let legal = Self.legal(value, name)
            combined = combined.map { $0 + ", " + legal } ?? legal
        }
        return combined
    }

    /// The value as `HTTPFields` would keep it.
    private static func legal(_ value: String, _ name: HTTPField.Name) -> String {
        HTTPField.isValidValue(value) ? value : HTTPField(name: name, value: value).value
    }
}

/// Header fields given by name, lower case.
private struct GivenHeaders: RequestHeaderSource {
    let fields: [(name: String, value: String)]

    subscript(_ variable: String) -> String? { nil }

    func forEachHeader(named name: String, _ body: (String) -> Void) {
        for field in fields where field.name == name { body(field.value) }
    }
}
