import FastCGI
import Foundation
import HTTPTypes

/// Translates between the CGI world of the transport and the HTTP model of the application.
enum FastCGIBridge {
    /// Builds the request; one that cannot be understood (bad method, bad query string) carries the
    /// problem to answer with, so that it is logged and answered like any other.
    static func request(from incoming: FastCGIRequest) -> Request {
        var method: String?
        var path: String?
        var queryString = ""
        var headers = HTTPFields()
        var cookies: [(name: String, value: String)] = []
        var remoteAddress: String?
        var requestID: String?
        for (name, value) in incoming.parameters {
            // Most parameters are headers; only names without the HTTP_ prefix need the switch.
            if name.utf8.starts(with: httpPrefix) {
                if name == "HTTP_COOKIE" {
                    cookies.append(contentsOf: Cookies.parse(value))
                } else if let field = headerName(name) {
                    headers.append(HTTPField(name: field, value: value))
                }
                continue
            }
            switch name {
            case "REQUEST_METHOD": method = value
            case "DOCUMENT_URI": path = value
            case "QUERY_STRING": queryString = value
            case "REMOTE_ADDR": remoteAddress = value
            case "REQUEST_ID": requestID = value
            case "CONTENT_TYPE": if !value.isEmpty, let field = HTTPField.Name("content-type") { headers.append(HTTPField(name: field, value: value)) }
            default: continue
            }
        }
        let id = requestID.flatMap { $0.isEmpty ? nil : $0 } ?? randomRequestID()
        if path == nil, let uri = incoming["REQUEST_URI"] {
            path = QueryParameters.decode(Array(uri.utf8.prefix { $0 != UInt8(ascii: "?") }))
        }
        let parsedMethod = method.flatMap { HTTPRequest.Method($0) }
        var request = Request(
            method: parsedMethod ?? .get, path: path ?? "/", headers: headers,
            cookies: cookies, body: incoming.body, bodyExceededLimit: incoming.bodyExceededLimit,
            remoteAddress: remoteAddress, id: id
        )
        if parsedMethod == nil {
            request.rejection = HTTPProblem.badRequest("invalid_request", "the request method is missing or malformed")
        } else if path?.hasPrefix("/") != true {
            request.rejection = HTTPProblem.badRequest("invalid_request", "the request path is missing or malformed")
        } else if let query = QueryParameters(parsing: queryString) {
            request.query = query
        } else {
            request.rejection = HTTPProblem.badRequest("invalid_query", "the query string has malformed percent-escapes or is not UTF-8")
        }
        return request
    }

    static func response(from response: Response) -> FastCGIResponse {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(response.headers.count + 1)
        for field in response.headers {
            headers.append((field.name.rawName, field.value))
        }
        headers.append(("Content-Length", String(response.body.count)))
        return FastCGIResponse(status: response.status.code, reason: response.status.reasonPhrase,
                               headers: headers, body: response.body)
    }

    private static let httpPrefix = Array("HTTP_".utf8)

    /// `HTTP_X_API_KEY` → `x-api-key`.
    private static func headerName(_ parameter: String) -> HTTPField.Name? {
        let converted = parameter.utf8.dropFirst(5).map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "_"): UInt8(ascii: "-")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte + 32
            default: byte
            }
        }
        return HTTPField.Name(String(decoding: converted, as: UTF8.self))
    }

    private static func randomRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
