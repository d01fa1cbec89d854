import HTTPTypes

/// Refuses cookie-authenticated writes that a browser sent on behalf of another site, and the sign-in
/// and first-run setup, whose forgery would sign a visitor into someone else's account. Requests
/// without `Sec-Fetch-Site` and `Origin` (curl, servers) pass, so the documented curl examples work.
///
/// A body must be declared `application/json`: a foreign page's form can send JSON text as
/// `text/plain` without the browser asking first, but not as `application/json`.
enum CSRFGuard {
    static func check(_ request: Request, configuration: Configuration) throws(HTTPProblem) {
        switch request.method {
        case .post, .put, .patch, .delete: break
        default: return
        }
        if !request.body.isEmpty && !isJSON(request.headers[.contentType]) {
            throw HTTPProblem(.unsupportedMediaType, code: "unsupported_media_type",
                              detail: "send the body as Content-Type: application/json")
        }
        if let site = request.headers[HTTPField.Name("sec-fetch-site")!], site != "same-origin" && site != "none" {
            throw HTTPProblem(.forbidden, code: "csrf_rejected", detail: "cross-site request refused")
        }
        if let origin = request.headers[HTTPField.Name("origin")!] {
            guard originMatches(origin.lowercased(), request: request, configuration: configuration) else {
                throw HTTPProblem(.forbidden, code: "csrf_rejected", detail: "cross-origin request refused")
            }
        }
    }

    /// `application/json`, in any case, with or without parameters such as `charset=utf-8`.
    private static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first?.trimmingWhitespace() ?? ""
        return mediaType.lowercased() == "application/json"
    }

    /// Whether `origin` (lower case) is the server's own: also what the MCP endpoint accepts (docs/API.md §12).
    static func originMatches(_ origin: String, request: Request, configuration: Configuration) -> Bool {
        if let expected = configuration.publicOrigin {
            return origin == expected
        }
        // Without a configured public URL, the origin's authority must be the Host the browser used.
        guard let host = request.headers[HTTPField.Name("host")!]?.lowercased(), let schemeEnd = origin.range(of: "://") else { return false }
        return origin[schemeEnd.upperBound...] == host[...]
    }
}
