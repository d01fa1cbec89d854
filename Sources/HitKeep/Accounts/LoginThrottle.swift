import Foundation
import HTTPTypes

/// Slows password guessing: after too many failures for one email or from one address within the
/// window, sign-in answers 429 until the oldest counted failure leaves the window.
///
/// An attempt reserves its place before the password is verified: it is recorded as a failure at
/// once, under per-email and per-address locks, and struck off again if the password was right.
/// Checking first and recording after the (slow) verification would let parallel guesses through
/// the gap between the two.
enum LoginThrottle {
    /// Records the attempt as a failure, or throws 429 when the limit is reached. Commits on its own,
    /// so that concurrent attempts see each other. Returns the reservation to strike off on success.
    static func reserve(emailKey: String, address: String, context: RequestContext) throws -> Int64 {
        let configuration = context.configuration
        let windowStart = context.now.addingTimeInterval(-configuration.loginWindow)
        return try context.database.transaction {
            // Always the email lock before the address lock, so two attempts never wait on each other in a cycle.
            try context.database.query("SELECT pg_advisory_xact_lock(hashtextextended('login-email:' || $1, 0))", [emailKey])
            try context.database.query("SELECT pg_advisory_xact_lock(hashtextextended('login-ip:' || $1, 0))", [address])
            // The failure whose ageing-out brings the count back under the limit, per key.
            let rows = try context.database.query("""
                SELECT (SELECT at FROM login_failures WHERE email = $1 AND at > $3
                        ORDER BY at DESC OFFSET $4 - 1 LIMIT 1) AS email_blocker,
                       (SELECT at FROM login_failures WHERE ip = $2 AND at > $3
                        ORDER BY at DESC OFFSET $5 - 1 LIMIT 1) AS address_blocker
                """, [emailKey, address, windowStart, configuration.loginFailuresPerEmail, configuration.loginFailuresPerAddress])
            let blockers = [try rows[0].decodeIfPresent(Date.self, "email_blocker"),
                            try rows[0].decodeIfPresent(Date.self, "address_blocker")].compactMap { $0 }
            if let latest = blockers.max() {
                let wait = max(1, Int(latest.addingTimeInterval(configuration.loginWindow).timeIntervalSince(context.now).rounded(.up)))
                var headers = ResponseHeaders()
                headers[.retryAfter] = String(wait)
                throw HTTPProblem(.tooManyRequests, code: "too_many_attempts",
                                  detail: "too many failed sign-in attempts; try again in \(wait) seconds", headers: headers)
            }
            // Old rows are of no use; dropping them here keeps the table at the size of one window.
            try context.database.query("DELETE FROM login_failures WHERE at < $1", [windowStart])
            return try context.database.query(
                "INSERT INTO login_failures (email, ip, at) VALUES ($1, $2, $3) RETURNING id", [emailKey, address, context.now]
            )[0].decode(Int64.self, "id")
        }
    }

    /// After a successful sign-in: the attempt and the email's earlier failures no longer count.
    static func clear(emailKey: String, context: RequestContext) throws {
        try context.database.query("DELETE FROM login_failures WHERE email = $1", [emailKey])
    }
}
