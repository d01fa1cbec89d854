import Foundation
import HTTPTypes
import Scoreboard

/// Each API client's requests per minute (`api_clients.rate_limit_per_minute`), held across every
/// worker of a pool and every pool on every host that shares the database.
///
/// Why leases: the bearer path is benchmarked against a C responder and must cost neither an extra
/// database round trip per request nor an UPDATE of one hot row per request (a benchmark hammers one
/// token). So the minute's quota lives in the database (`QuotaLedger`, one row per client and
/// minute) and is handed out in chunks of 2.5 % of the limit; a pool keeps the chunk in the
/// scoreboard's shared memory (`QuotaLeases`), where each worker takes one request with a
/// compare-and-swap. The database sees one statement per chunk, and since the ledger never hands
/// out more than the limit, all pools together never admit more than the limit. What they may
/// admit less: the unspent part of the chunk each pool holds when the others run out, at most
/// 2.5 % per pool (within 10 % up to four pools). A worker killed or restarted loses nothing (the
/// pot is the supervisor's memory, the ledger the database's); a whole pool restarted forgets its
/// unspent chunk, which only ever lowers what is admitted.
///
/// The window is the clock's minute (a fixed window, as the `RateLimit` field's reset `t` says):
/// hosts must keep their clocks in step (NTP), as they must for tokens' expiries anyway. A client
/// the pot has no room for (more than 8192 busy in one pool within two minutes) leases one request
/// at a time: correct, one statement per request.
final class ClientRateLimiter {
    private let leases: QuotaLeases
    /// The `RateLimit-Policy` field of the last limit seen: most workers serve few clients, and the
    /// field's text is the same for every request of a client.
    private var lastPolicy: (limit: Int, field: HTTPField)?
    private var fields = RateLimitFields()

    init(board: Scoreboard) {
        leases = QuotaLeases(board: board)
    }

    /// 2.5 % of the limit, at least one request.
    static func chunk(for limit: Int) -> Int {
        max(1, limit / 40)
    }

    /// Admits one request of `clientID` under `limit` a minute, adding the `RateLimit-Policy` and
    /// `RateLimit` fields to whatever the request is answered with; over the limit, throws 429
    /// `rate_limited` with `Retry-After`, the seconds until the minute ends.
    func admit(clientID: String, limit: Int, context: RequestContext) throws {
        let seconds = Int(context.now.timeIntervalSince1970)
        let window = UInt64(seconds / RateLimitFields.windowSeconds)
        let resetSeconds = RateLimitFields.windowSeconds - seconds % RateLimitFields.windowSeconds
        let entry = leases.entry(for: clientID, window: window)
        var admitted = true
        var remaining = 0
        switch entry?.spend(window: window) {
        case .spent(let left)?:
            remaining = limit - (entry?.taken(window: window) ?? 0) + left
        case .exhausted?:
            admitted = false
        case .empty?, nil:
            let lease = try QuotaLedger.lease(clientID, windowStart: Date(timeIntervalSince1970: TimeInterval(window) * 60),
                                              chunk: entry == nil ? 1 : Self.chunk(for: limit), limit: limit, on: context.database)
            entry?.recordTaken(lease.taken, window: window)
            // This request takes one of the lease and the rest goes into the pool's pot; an empty
            // lease marks the minute exhausted, so that nobody asks the database again before it ends.
            admitted = lease.granted > 0
            if admitted { entry?.credit(lease.granted - 1, window: window) } else { entry?.exhaust(window: window) }
            remaining = admitted ? limit - lease.taken + (entry?.left(window: window) ?? 0) : 0
        }
        context.responseHeaders.append(policyField(limit: limit))
        context.responseHeaders.append(fields.state(remaining: min(remaining, limit), resetSeconds: resetSeconds))
        guard admitted else {
            var headers = ResponseHeaders()
            headers[.retryAfter] = String(resetSeconds)
            throw HTTPProblem(.tooManyRequests, code: "rate_limited",
                              detail: "this client may make \(limit) requests a minute; retry in \(resetSeconds) s", headers: headers)
        }
    }

    private func policyField(limit: Int) -> HTTPField {
        if let lastPolicy, lastPolicy.limit == limit { return lastPolicy.field }
        let field = fields.policy(limit: limit)
        lastPolicy = (limit, field)
        return field
    }
}
