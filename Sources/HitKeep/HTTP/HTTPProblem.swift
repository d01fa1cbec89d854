import HTTPTypes

/// An error a client can act on, answered as an RFC 9457 problem document with a stable `code`.
public struct HTTPProblem: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public var response: Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let document = JSON.object([
            ("type", .string("about:blank")),
            ("status", .int(status.code)),
            ("title", .string(status.reasonPhrase)),
            ("detail", .string(detail)),
            ("code", .string(code)),
        ])
        return Response(status: status, headers: headers, body: document.encoded())
    }
}

extension HTTPProblem {
    public static func badRequest(_ code: String, _ detail: String) -> HTTPProblem {
        HTTPProblem(.badRequest, code: code, detail: detail)
    }

    public static func invalidJSON(_ detail: String) -> HTTPProblem {
        HTTPProblem(.badRequest, code: "invalid_json", detail: detail)
    }

    public static func notFound(_ detail: String = "no such resource") -> HTTPProblem {
        HTTPProblem(.notFound, code: "not_found", detail: detail)
    }

    public static func forbidden(_ detail: String, code: String = "forbidden") -> HTTPProblem {
        HTTPProblem(.forbidden, code: code, detail: detail)
    }

    public static func conflict(_ code: String, _ detail: String) -> HTTPProblem {
        HTTPProblem(.conflict, code: code, detail: detail)
    }

    public static func databaseUnavailable() -> HTTPProblem {
        var headers = HTTPFields()
        headers[.retryAfter] = "1"
        return HTTPProblem(.serviceUnavailable, code: "database_unavailable",
                           detail: "the database is unavailable; retry shortly", headers: headers)
    }
}
