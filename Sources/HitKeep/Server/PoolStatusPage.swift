import HTTPTypes
import Scoreboard

/// `/pool-status`: the scoreboard as text, as php-fpm's status page. Only nginx's location of that
/// name reaches it, which lets in localhost alone (nginx/hitkeep.conf.template); nginx passes no
/// other path outside /api/ and /ingest to the pool. With several pools behind one nginx, it shows
/// the pool of the worker that answered: each host's --metrics-address shows its own.
enum PoolStatusPage {
    static let path = "/pool-status"

    /// Asked on every request: the byte count, which a native string keeps, settles nearly all.
    @inline(__always)
    static func isRequested(_ request: Request) -> Bool {
        request.path.utf8.count == path.utf8.count && request.path == path
    }

    static func response(to request: Request, servedBy slot: WorkerSlot) -> Response {
        guard request.method == .get || request.method == .head else {
            var headers = ResponseHeaders()
            headers[.allow] = "GET, HEAD"
            return HTTPProblem(.methodNotAllowed, code: "method_not_allowed",
                               detail: "\(request.method.rawValue) is not allowed here", headers: headers).response
        }
        var headers = ResponseHeaders()
        headers[.contentType] = StatusPage.contentType
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        // nginx drops the body of a HEAD response itself.
        return Response(status: .ok, headers: headers, body: Array(StatusPage.render(PoolSnapshot(of: slot.scoreboard, readerSlot: slot.index)).utf8))
    }
}
