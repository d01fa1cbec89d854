import HTTPTypes
import PostgresClient

/// Finds the principal of a request (docs/API.md §2): a valid session cookie wins; otherwise an API
/// client token from `Authorization: Bearer` or `X-Api-Key`, where the endpoint accepts one. Every
/// principal comes out of one path, whatever the credential and whether or not a read goes with it.
enum Authenticator {
    static let realm = "hitkeep"

    /// The principal, and the rows of `read` (if any) as the principal sees them. A bearer token is
    /// looked up in the same statement as the read; a session's read runs once the session is known.
    static func authenticate<Row>(_ request: Request, _ context: RequestContext, policy: AuthenticationPolicy,
                                  reading read: PrincipalRead<Row>?) throws -> (Principal, [Row]) {
        switch try credentials(request, context, policy: policy) {
        case .principal(let principal):
            return (principal, try read?.rows(for: principal, on: context.database) ?? [])
        case .token(let token, let scope):
            let (grant, rows) = try APIClientAuthenticator.authenticate(token: token, requiring: scope, reading: read,
                                                                        context: context)
            return (.apiClient(grant), rows)
        }
    }

    private enum Credentials {
        case principal(Principal)
        /// A token, not yet looked up, and the scope it needs, if any.
        case token(String, Scope?)
    }

    /// A signed-in session's principal, or the token to look up; or the 401 to answer with.
    private static func credentials(_ request: Request, _ context: RequestContext, policy: AuthenticationPolicy) throws -> Credentials {
        let token = bearerToken(request)
        if case .tokenOnly(let scope) = policy {
            // The cookie is not looked at: not even a valid session stands in for a token here.
            guard let token else {
                var problem = missingToken()
                if request.cookies.contains(where: { $0.name == SessionCookie.name(context.configuration) }) {
                    problem.detail = "this endpoint takes only an API client token, as Authorization: Bearer; a session cookie is not enough"
                }
                throw problem
            }
            return .token(token, scope)
        }
        // Only the first cookie of the name counts: a request carrying many would otherwise cost a
        // database lookup each.
        let cookieName = SessionCookie.name(context.configuration)
        let cookieSecret = request.cookies.first { $0.name == cookieName }?.value
        if let secret = cookieSecret, let found = try SessionStore.find(secret: secret, context: context) {
            try CSRFGuard.check(request, configuration: context.configuration)
            if let maxAge = found.renewedMaxAge {
                context.responseHeaders.append(HTTPField(
                    name: .setCookie, value: SessionCookie.setCookie(secret, maxAge: maxAge, configuration: context.configuration)))
            }
            return .principal(.session(found.user, sessionHash: found.hash))
        }

        switch policy {
        case .sessionOnly:
            if token != nil {
                throw HTTPProblem(.unauthorized, code: "unauthenticated",
                                  detail: "this endpoint needs a signed-in session; API client tokens cannot use it")
            }
            throw unauthenticated(cookieSent: cookieSecret != nil, challenge: false, context: context)
        case .sessionOrToken(let scope):
            guard let token else {
                throw unauthenticated(cookieSent: cookieSecret != nil, challenge: true, context: context)
            }
            return .token(token, scope)
        case .tokenOnly:
            fatalError("a token-only request is answered above")
        }
    }

    /// The token of `Authorization: Bearer …` (scheme in any case) or of `X-Api-Key`.
    static func bearerToken(_ request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let bytes = authorization.utf8
            let scheme = "bearer".utf8
            if bytes.count > scheme.count + 1,
               zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }),
               bytes[bytes.index(bytes.startIndex, offsetBy: scheme.count)] == UInt8(ascii: " ") {
                if let token = asciiToken(authorization, from: scheme.count + 1) { return token }
                return String(authorization.dropFirst(scheme.count + 1).trimmingWhitespace())
            }
        }
        if let key = request.headers[HTTPField.Name("x-api-key")!] {
            return String(key.trimmingWhitespace())
        }
        return nil
    }

    /// The text from byte `start` on, without spaces and tabs at either end, when it is all ASCII
    /// (as every token is): then each byte is a character, and working on bytes gives what the
    /// character-wise trimming does, without its grapheme breaking.
    private static func asciiToken(_ value: String, from start: Int) -> String? {
        var value = value
        return value.withUTF8 { bytes -> String? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            var first = start
            var end = bytes.count
            while first < end && (bytes[first] == UInt8(ascii: " ") || bytes[first] == UInt8(ascii: "\t")) { first += 1 }
            while end > first && (bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t")) { end -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[first..<end]), as: UTF8.self)
        }
    }

    private static func unauthenticated(cookieSent: Bool, challenge: Bool, context: RequestContext) -> HTTPProblem {
        var headers = ResponseHeaders()
        if challenge { headers[.wwwAuthenticate] = "Bearer realm=\"\(realm)\"" }
        if cookieSent {
            // A stale cookie is cleared so the browser stops sending it.
            headers.append(HTTPField(name: .setCookie, value: SessionCookie.clearCookie(configuration: context.configuration)))
        }
        let detail = cookieSent ? "the session has expired or was ended; sign in again" : "sign in or send an API client token"
        return HTTPProblem(.unauthorized, code: "unauthenticated", detail: detail, headers: headers)
    }

    /// 401 for a bearer-only endpoint called without a token.
    static func missingToken() -> HTTPProblem {
        var headers = ResponseHeaders()
        headers[.wwwAuthenticate] = "Bearer realm=\"\(realm)\""
        return HTTPProblem(.unauthorized, code: "unauthenticated", detail: "send an API client token as Authorization: Bearer", headers: headers)
    }

    /// 403 `insufficient_scope` with the RFC 6750 challenge naming the scope the endpoint needs.
    static func insufficientScope(_ scope: Scope) -> HTTPProblem {
        var headers = ResponseHeaders()
        headers[.wwwAuthenticate] = "Bearer realm=\"\(realm)\", error=\"insufficient_scope\", scope=\"\(scope.rawValue)\""
        return HTTPProblem(.forbidden, code: "insufficient_scope",
                           detail: "this token lacks the \(scope.rawValue) scope", headers: headers)
    }

    /// 401 `invalid_token` with the RFC 6750 challenge; `reason` is one of expired, revoked, invalid.
    static func invalidToken(_ reason: String) -> HTTPProblem {
        let description: String
        switch reason {
        case "expired": description = "The access token expired"
        case "revoked": description = "The access token was revoked"
        default: description = "The access token is invalid"
        }
        var headers = ResponseHeaders()
        headers[.wwwAuthenticate] = "Bearer realm=\"\(realm)\", error=\"invalid_token\", error_description=\"\(description)\""
        return HTTPProblem(.unauthorized, code: "invalid_token", detail: description.lowercased(), headers: headers)
    }
}
