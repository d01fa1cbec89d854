import HTTPTypes

/// Refuses cookie-authenticated writes that a browser sent on behalf of another site. Requests
/// without `Sec-Fetch-Site` and `Origin` (curl, servers) pass, so the documented curl examples work.
enum CSRFGuard {
    static func check(_ request: Request, configuration: Configuration) throws(HTTPProblem) {
        switch request.method {
        case .post, .put, .patch, .delete: break
        default: return
        }
        if let site = request.headers[HTTPField.Name("sec-fetch-site")!], site != "same-origin" && site != "none" {
            throw .forbidden("cross-site request refused", code: "csrf_rejected")
        }
        if let origin = request.headers[HTTPField.Name("origin")!] {
            guard originMatches(origin.lowercased(), request: request, configuration: configuration) else {
                throw .forbidden("cross-origin request refused", code: "csrf_rejected")
            }
        }
    }

    private static func originMatches(_ origin: String, request: Request, configuration: Configuration) -> Bool {
        if let expected = configuration.publicOrigin {
            return origin == expected
        }
        // Without a configured public URL, the origin's authority must be the Host the browser used.
        guard let host = request.headers[HTTPField.Name("host")!]?.lowercased(), let schemeEnd = origin.range(of: "://") else { return false }
        return origin[schemeEnd.upperBound...] == host[...]
    }
}
