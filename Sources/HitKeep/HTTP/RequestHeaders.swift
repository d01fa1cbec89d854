import FastCGI
import HTTPTypes

/// The header fields of a request, read from the FastCGI parameters when a handler asks for one.
///
/// The web server passes a dozen headers or so and a handler reads two or three, so building every
/// field up front (validating names, lowercasing, copying values) is work mostly thrown away.
/// Lookups answer as `HTTPFields` would have for the same request: repeated fields are joined with
/// `, `, values are legalized the same way, `Content-Type` comes from `CONTENT_TYPE` before any
/// `HTTP_CONTENT_TYPE`, and `Cookie` is absent because cookies are parsed into `Request.cookies`.
public struct RequestHeaders: Sendable {
    private let parameters: FastCGIParameters

    init(parameters: FastCGIParameters) {
        self.parameters = parameters
    }

    public init() {
        self.init(parameters: FastCGIParameters())
    }

    /// Headers given by name, as a test or a tool builds a request; they read as if the web server
    /// had passed them as `HTTP_*` parameters.
    public init(_ fields: [(name: HTTPField.Name, value: String)]) {
        self.init(parameters: FastCGIParameters(fields.map { field in
            let name = field.name.canonicalName.utf8.map { byte in
                switch byte {
                case UInt8(ascii: "-"): UInt8(ascii: "_")
                case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - 32
                default: byte
                }
            }
            return (name: "HTTP_" + String(decoding: name, as: UTF8.self), value: field.value)
        }))
    }

    public subscript(name: HTTPField.Name) -> String? {
        if name == .cookie { return nil }
        var combined: String?
        func add(_ value: String) {
            let legal = HTTPField.isValidValue(value) ? value : HTTPField(name: name, value: value).value
            if let previous = combined {
                combined = previous + ", " + legal
            } else {
                combined = legal
            }
        }
        if name == .contentType, let contentType = parameters["CONTENT_TYPE"], !contentType.isEmpty {
            add(contentType)
        }
        parameters.forEachHeader(named: name.canonicalName, add)
        return combined
    }
}
