import Foundation
import HTTPTypes

/// Slows password guessing: after too many failures for one email or from one address within the
/// window, sign-in answers 429 until the oldest counted failure leaves the window.
enum LoginThrottle {
    static func check(emailKey: String, address: String, context: RequestContext) throws {
        let configuration = context.configuration
        let windowStart = context.now.addingTimeInterval(-configuration.loginWindow)
        // The failure whose ageing-out brings the count back under the limit, per key.
        let rows = try context.database.query("""
            SELECT (SELECT at FROM login_failures WHERE email = $1 AND at > $3
                    ORDER BY at DESC OFFSET $4 - 1 LIMIT 1) AS email_blocker,
                   (SELECT at FROM login_failures WHERE ip = $2 AND at > $3
                    ORDER BY at DESC OFFSET $5 - 1 LIMIT 1) AS address_blocker
            """, [emailKey, address, windowStart, configuration.loginFailuresPerEmail, configuration.loginFailuresPerAddress])
        let blockers = [try rows[0].decodeIfPresent(Date.self, "email_blocker"),
                        try rows[0].decodeIfPresent(Date.self, "address_blocker")].compactMap { $0 }
        guard let latest = blockers.max() else { return }
        let wait = max(1, Int(latest.addingTimeInterval(configuration.loginWindow).timeIntervalSince(context.now).rounded(.up)))
        var headers = HTTPFields()
        headers[.retryAfter] = String(wait)
        throw HTTPProblem(.tooManyRequests, code: "too_many_attempts",
                          detail: "too many failed sign-in attempts; try again in \(wait) seconds", headers: headers)
    }

    static func recordFailure(emailKey: String, address: String, context: RequestContext) throws {
        try context.database.query(
            "INSERT INTO login_failures (email, ip, at) VALUES ($1, $2, $3)", [emailKey, address, context.now])
        // Old rows are of no use; dropping them here keeps the table at the size of one window.
        try context.database.query(
            "DELETE FROM login_failures WHERE at < $1", [context.now.addingTimeInterval(-context.configuration.loginWindow)])
    }

    static func clear(emailKey: String, context: RequestContext) throws {
        try context.database.query("DELETE FROM login_failures WHERE email = $1", [emailKey])
    }
}
