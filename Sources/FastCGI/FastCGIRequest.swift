/// One request as the web server sent it: its parameters, copied out of libfcgi at once (libfcgi
/// reuses their storage at the next accept), and its body.
public struct FastCGIRequest: Sendable {
    /// Parameters in the order the web server sent them. Names may repeat (nginx passes one
    /// `HTTP_COOKIE` per `Cookie` header line), so this is a list rather than a dictionary.
    public var parameters: [(name: String, value: String)]
    /// The body, at most the limit given to the responder.
    public var body: [UInt8]
    /// Whether the body announced by `CONTENT_LENGTH` (or sent) was larger than the limit. The
    /// excess has been read and discarded, so a response can still be written.
    public var bodyExceededLimit: Bool

    public init(parameters: [(name: String, value: String)], body: [UInt8], bodyExceededLimit: Bool = false) {
        self.parameters = parameters
        self.body = body
        self.bodyExceededLimit = bodyExceededLimit
    }

    /// The first parameter with this name.
    public subscript(_ name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }
}
