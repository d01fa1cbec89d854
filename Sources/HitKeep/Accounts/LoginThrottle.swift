import Foundation
import HTTPTypes
import PostgresClient

/// Slows password guessing: after too many failures for one email from one address, or from one
/// address in all, within the window, sign-in answers 429 until the oldest counted failure leaves
/// the window. Failures are never counted per email alone: then anyone, anywhere, could lock an
/// account's owner out by typing wrong passwords for their email.
///
/// An attempt reserves its place before the password is verified: it is recorded as a failure at
/// once, under per-email and per-address locks, and struck off again if the password was right.
/// Checking first and recording after the (slow) verification would let parallel guesses through
/// the gap between the two.
enum LoginThrottle {
    /// Records the attempt as a failure, or throws 429 when the limit is reached. Commits on its own,
    /// so that concurrent attempts see each other; `clear` strikes it off after a right password.
    static func reserve(emailKey: String, address: String, context: RequestContext) throws {
        let configuration = context.configuration
        let windowStart = context.now.addingTimeInterval(-configuration.loginWindow)
        try context.database.transaction {
            // Always the email lock before the address lock, so two attempts never wait on each other in a cycle.
            try context.database.query("SELECT pg_advisory_xact_lock(hashtextextended('login-email:' || \(emailKey), 0))")
            try context.database.query("SELECT pg_advisory_xact_lock(hashtextextended('login-ip:' || \(address), 0))")
            // The failure whose ageing-out brings the count back under the limit, per key.
            let rows = try context.database.query("""
                SELECT (SELECT at FROM login_failures WHERE email = \(emailKey) AND ip = \(address) AND at > \(windowStart)
                        ORDER BY at DESC OFFSET \(configuration.loginFailuresPerEmail) - 1 LIMIT 1) AS email_blocker,
                       (SELECT at FROM login_failures WHERE ip = \(address) AND at > \(windowStart)
                        ORDER BY at DESC OFFSET \(configuration.loginFailuresPerAddress) - 1 LIMIT 1) AS address_blocker
                """)
            let blockers = [try rows[0].decodeIfPresent(Date.self, "email_blocker"),
                            try rows[0].decodeIfPresent(Date.self, "address_blocker")].compactMap { $0 }
            if let latest = blockers.max() {
                throw tooManyAttempts("sign-in", countedSince: latest, context: context)
            }
            try context.database.query("INSERT INTO login_failures (email, ip, at) VALUES (\(emailKey), \(address), \(context.now))")
        }
    }

    /// After a successful sign-in: the attempt and the email's earlier failures from this address
    /// no longer count. Failures from elsewhere still do, for the addresses they came from.
    static func clear(emailKey: String, address: String, context: RequestContext) throws {
        try context.database.query("DELETE FROM login_failures WHERE email = \(emailKey) AND ip = \(address)")
    }

    /// Deletes failures that have left the window; the roll-up process calls it now and then. Rows
    /// another transaction holds are left for the next purge (see `SessionStore.purgeExpired`).
    static func purge(olderThan windowStart: Date, on database: some PostgresQuerying) throws {
        try database.query("""
            DELETE FROM login_failures WHERE id IN (SELECT id FROM login_failures WHERE at < \(windowStart) FOR UPDATE SKIP LOCKED)
            """)
    }

    /// 429 `too_many_attempts`, with `Retry-After` for when the failure counted at `blocker` leaves
    /// the window.
    static func tooManyAttempts(_ what: String, countedSince blocker: Date, context: RequestContext) -> HTTPProblem {
        let wait = max(1, Int(blocker.addingTimeInterval(context.configuration.loginWindow)
            .timeIntervalSince(context.now).rounded(.up)))
        var headers = ResponseHeaders()
        headers[.retryAfter] = String(wait)
        return HTTPProblem(.tooManyRequests, code: "too_many_attempts",
                           detail: "too many failed \(what) attempts; try again in \(wait) seconds", headers: headers)
    }
}
