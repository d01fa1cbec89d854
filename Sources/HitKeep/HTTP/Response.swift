import HTTPTypes

/// An HTTP response before it is written to the transport.
public struct Response: Sendable {
    public var status: HTTPResponse.Status
    public var headers: ResponseHeaders
    public var body: [UInt8]

    public init(status: HTTPResponse.Status, headers: ResponseHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON document with the headers every API response carries.
    public static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        var headers = ResponseHeaders()
        headers.append(jsonContentType)
        return Response(status: status, headers: headers, body: value.encoded())
    }

    private static let jsonContentType = HTTPField(name: .contentType, value: "application/json; charset=utf-8")

    public static func noContent() -> Response {
        Response(status: .noContent)
    }
}
