import FastCGI
import Foundation
import HTTPTypes
import TextFormats

/// Translates between the CGI world of the transport and the HTTP model of the application.
enum FastCGIBridge {
    /// Builds the request; one that cannot be understood (bad method, bad query string) carries the
    /// problem to answer with, so that it is logged and answered like any other.
    static func request(from incoming: FastCGIRequest) -> Request {
        let parameters = incoming.parameters
        let method = parameters["REQUEST_METHOD"]
        var path = parameters["DOCUMENT_URI"]
        let queryString = parameters["QUERY_STRING"] ?? ""
        let remoteAddress = parameters["REMOTE_ADDR"]
        let requestID = parameters["REQUEST_ID"]
        var cookies: [(name: String, value: String)] = []
        parameters.forEachHeader(named: "cookie") { cookies.append(contentsOf: Cookies.parse($0)) }
        let id = requestID.flatMap { $0.isEmpty ? nil : $0 } ?? randomRequestID()
        if path == nil, let uri = incoming["REQUEST_URI"] {
            path = QueryParameters.decode(Array(uri.utf8.prefix { $0 != UInt8(ascii: "?") }))
        }
        let parsedMethod = method.flatMap { HTTPRequest.Method($0) }
        var query = QueryParameters()
        let rejection: HTTPProblem?
        if parsedMethod == nil {
            rejection = HTTPProblem.badRequest("invalid_request", "the request method is missing or malformed")
        } else if path?.hasPrefix("/") != true {
            rejection = HTTPProblem.badRequest("invalid_request", "the request path is missing or malformed")
        } else if let parsed = QueryParameters(parsing: queryString) {
            query = parsed
            rejection = nil
        } else {
            rejection = HTTPProblem.badRequest("invalid_query", "the query string has malformed percent-escapes or is not UTF-8")
        }
        // Built once with everything it carries, rather than built and then changed.
        return Request(
            method: parsedMethod ?? .get, path: path ?? "/", query: query,
            headers: RequestHeaders(source: parameters), cookies: cookies, body: incoming.body,
            bodyExceededLimit: incoming.bodyExceededLimit, remoteAddress: remoteAddress, id: id, rejection: rejection
        )
    }

    static func response(from response: Response) -> FastCGIResponse {
        var written = FastCGIResponse(status: response.status.code, reason: response.status.reasonPhrase,
                                      capacity: 320 + response.body.count)
        for field in response.headers {
            written.appendHeader(field.name.rawName, field.value)
        }
        written.appendHeader("Content-Length", response.body.count)
        written.appendBody(response.body)
        return written
    }

    private static func randomRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        // 16 lowercase hex digits, written into the new string at once.
        return withUnsafeBytes(of: value.bigEndian) { HexDigits.string($0) }
    }
}

/// The transport's parameters are where a request's headers come from.
extension FastCGIParameters: RequestHeaderSource {}
