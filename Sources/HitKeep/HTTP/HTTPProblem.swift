import HTTPTypes
import TextFormats

/// An error a client can act on, answered as an RFC 9457 problem document with a stable `code`.
public struct HTTPProblem: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    public var headers: ResponseHeaders
    /// Extension members after the five every problem has (RFC 9457 §3.2), as strings.
    public var members: [(String, String)] = []

    public init(_ status: HTTPResponse.Status, code: String, detail: String, headers: ResponseHeaders = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public var response: Response {
        var headers = self.headers
        headers.set(Self.contentType)
        return Response(status: status, headers: headers, body: document)
    }

    private static let contentType = HTTPField(name: .contentType, value: "application/problem+json")

    /// `{"type":"about:blank","status":…,"title":…,"detail":…,"code":…}` and any `members`, written
    /// straight into bytes: every error answer has these same five members, so building a `JSON`
    /// tree for it first would only be thrown away.
    var document: [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(96 + detail.utf8.count + code.utf8.count + members.count * 48)
        output.appendLiteral(#"{"type":"about:blank","status":"#)
        output.appendDecimal(Int64(status.code))
        output.appendLiteral(#","title":"#)
        JSON.writeString(status.reasonPhrase, to: &output)
        output.appendLiteral(#","detail":"#)
        JSON.writeString(detail, to: &output)
        output.appendLiteral(#","code":"#)
        JSON.writeString(code, to: &output)
        for (name, value) in members {
            output.append(UInt8(ascii: ","))
            JSON.writeString(name, to: &output)
            output.append(UInt8(ascii: ":"))
            JSON.writeString(value, to: &output)
        }
        output.append(UInt8(ascii: "}"))
        return output
    }
}

extension HTTPProblem {
    public static func badRequest(_ code: String, _ detail: String) -> HTTPProblem {
        HTTPProblem(.badRequest, code: code, detail: detail)
    }

    public static func invalidJSON(_ detail: String) -> HTTPProblem {
        HTTPProblem(.badRequest, code: "invalid_json", detail: detail)
    }

    public static func databaseUnavailable() -> HTTPProblem {
        var headers = ResponseHeaders()
        headers[.retryAfter] = "1"
        return HTTPProblem(.serviceUnavailable, code: "database_unavailable",
                           detail: "the database is unavailable; retry shortly", headers: headers)
    }

    /// The database is older than this server (`SchemaBehind`): it answers again once an
    /// administrator has run `hitkeep migrate`, without a restart.
    public static func databaseNotMigrated() -> HTTPProblem {
        var headers = ResponseHeaders()
        headers[.retryAfter] = "30"
        return HTTPProblem(.serviceUnavailable, code: "database_not_migrated",
                           detail: "the server was upgraded but its database was not; an administrator must run `hitkeep migrate`",
                           headers: headers)
    }
}
