/// A response in CGI form: the status travels as a `Status:` header, which the web server turns
/// into the HTTP status line.
public struct FastCGIResponse: Sendable {
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, reason: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The bytes written to the FastCGI stdout stream: header block, blank line, body.
    func serialized() -> [UInt8] {
        var head = "Status: \(status) \(reason)\r\n"
        for header in headers {
            head += header.name
            head += ": "
            head += header.value
            head += "\r\n"
        }
        head += "\r\n"
        var bytes = [UInt8]()
        bytes.reserveCapacity(head.utf8.count + body.count)
        bytes.append(contentsOf: head.utf8)
        bytes.append(contentsOf: body)
        return bytes
    }
}
