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
        var bytes = [UInt8]()
        bytes.reserveCapacity(256 + body.count)
        bytes.append(contentsOf: "Status: ".utf8)
        bytes.append(contentsOf: String(status).utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: reason.utf8)
        bytes.append(contentsOf: [0x0D, 0x0A])
        for header in headers {
            bytes.append(contentsOf: header.name.utf8)
            bytes.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            bytes.append(contentsOf: header.value.utf8)
            bytes.append(contentsOf: [0x0D, 0x0A])
        }
        bytes.append(contentsOf: [0x0D, 0x0A])
        bytes.append(contentsOf: body)
        return bytes
    }
}
