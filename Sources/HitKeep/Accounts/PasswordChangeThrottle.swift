import Foundation
import PostgresClient

/// Slows guessing of the current password through `PUT /api/user/password` by whoever holds a
/// session: after too many wrong current passwords for the account within the window, the change
/// answers 429 until the oldest counted failure leaves it. Works as `LoginThrottle` does: each
/// attempt is recorded as a failure before the password is verified, and struck off if it was right.
enum PasswordChangeThrottle {
    /// Records the attempt as a failure, or throws 429 when the limit is reached; commits on its own.
    /// `clear` strikes it off after the right password.
    static func reserve(userID: String, context: RequestContext) throws {
        let configuration = context.configuration
        let windowStart = context.now.addingTimeInterval(-configuration.loginWindow)
        try context.database.transaction {
            try context.database.query("SELECT pg_advisory_xact_lock(hashtextextended('password-change:' || \(userID), 0))")
            let rows = try context.database.query("""
                SELECT at FROM password_change_failures WHERE user_id = \(userID) AND at > \(windowStart)
                ORDER BY at DESC OFFSET \(configuration.loginFailuresPerEmail) - 1 LIMIT 1
                """)
            if let blocker = try rows.first?.decode(Date.self, "at") {
                throw LoginThrottle.tooManyAttempts("password change", countedSince: blocker, context: context)
            }
            try context.database.query("INSERT INTO password_change_failures (user_id, at) VALUES (\(userID), \(context.now))")
        }
    }

    /// After the right current password: this attempt and the account's earlier failures no longer count.
    static func clear(userID: String, on database: some PostgresQuerying) throws {
        try database.query("DELETE FROM password_change_failures WHERE user_id = \(userID)")
    }

    /// Deletes failures that have left the window, skipping rows another transaction holds.
    static func purge(olderThan windowStart: Date, on database: some PostgresQuerying) throws {
        try database.query("""
            DELETE FROM password_change_failures
            WHERE id IN (SELECT id FROM password_change_failures WHERE at < \(windowStart) FOR UPDATE SKIP LOCKED)
            """)
    }
}
