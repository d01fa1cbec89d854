/// One request as the web server sent it: its parameters and its body.
public struct FastCGIRequest: Sendable {
    public var parameters: FastCGIParameters
    /// The body, at most the limit given to the responder.
    public var body: [UInt8]
    /// Whether the body announced by `CONTENT_LENGTH` (or sent) was larger than the limit. The
    /// excess has been read and discarded, so a response can still be written.
    public var bodyExceededLimit: Bool

    public init(parameters: FastCGIParameters, body: [UInt8], bodyExceededLimit: Bool = false) {
        self.parameters = parameters
        self.body = body
        self.bodyExceededLimit = bodyExceededLimit
    }

    /// The first parameter with this name.
    public subscript(_ name: String) -> String? {
        parameters[name]
    }
}
