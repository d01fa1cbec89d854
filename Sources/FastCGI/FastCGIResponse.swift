import TextFormats

/// A response in CGI form, written straight into the bytes that go to the FastCGI stdout stream:
/// a `Status:` header, which the web server turns into the HTTP status line, the other headers, a
/// blank line and the body. Building it in place costs one buffer per response instead of strings
/// and arrays for each header.
public struct FastCGIResponse: Sendable {
    private var bytes: [UInt8] = []
    private var headEnded = false

    /// Starts a response; `capacity` is a guess of its whole size, body included.
    public init(status: Int, reason: String, capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
        bytes.appendLiteral("Status: ")
        bytes.appendDecimal(Int64(status))
        bytes.append(UInt8(ascii: " "))
        bytes.appendUTF8(reason)
        appendLineEnd()
    }

    public init(status: Int, reason: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.init(status: status, reason: reason, capacity: 256 + body.count)
        for header in headers { appendHeader(header.name, header.value) }
        appendBody(body)
    }

    /// Adds a header; headers must all come before the body.
    public mutating func appendHeader(_ name: String, _ value: String) {
        appendHeaderName(name)
        bytes.appendUTF8(value)
        appendLineEnd()
    }

    /// Adds a header with a number for its value, such as `Content-Length`.
    public mutating func appendHeader(_ name: String, _ value: Int) {
        appendHeaderName(name)
        bytes.appendDecimal(Int64(value))
        appendLineEnd()
    }

    private mutating func appendHeaderName(_ name: String) {
        precondition(!headEnded, "a header after the body")
        bytes.appendUTF8(name)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(UInt8(ascii: " "))
    }

    /// Ends the header block and adds the body.
    public mutating func appendBody(_ body: [UInt8]) {
        endHead()
        bytes.append(contentsOf: body)
    }

    /// The bytes written to the FastCGI stdout stream: header block, blank line, body.
    func serialized() -> [UInt8] {
        var response = self
        response.endHead()
        return response.bytes
    }

    private mutating func endHead() {
        guard !headEnded else { return }
        appendLineEnd()
        headEnded = true
    }

    private mutating func appendLineEnd() {
        bytes.append(0x0D)
        bytes.append(0x0A)
    }
}
