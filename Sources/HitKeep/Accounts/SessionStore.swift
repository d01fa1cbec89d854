import Foundation
import PostgresClient

/// Cookie sessions in the `sessions` table, keyed by the SHA-256 of the cookie secret.
enum SessionStore {
    struct Found {
        let user: User
        let hash: [UInt8]
        /// Set when the expiry was pushed forward: the cookie's new Max-Age.
        let renewedMaxAge: Int?
    }

    /// Starts a session and returns the cookie secret (never stored) and its Max-Age.
    static func create(for userID: String, userAgent: String, context: RequestContext) throws -> (secret: String, maxAge: Int) {
        let secret = SessionCookie.newSecret()
        let configuration = context.configuration
        let lifetime = min(configuration.sessionLifetime, configuration.sessionAbsoluteLifetime)
        try context.database.query("""
            INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, absolute_expires_at, user_agent)
            VALUES (\(SecretDigest.sha256(secret)), \(userID), \(context.now), \(context.now),
                    \(context.now.addingTimeInterval(lifetime)),
                    \(context.now.addingTimeInterval(configuration.sessionAbsoluteLifetime)), \(String(userAgent.prefix(512))))
            """)
        return (secret, Int(lifetime))
    }

    /// The live session for a cookie secret, renewed when less than half its lifetime remains.
    static func find(secret: String, context: RequestContext) throws -> Found? {
        guard SessionCookie.isWellFormed(secret) else { return nil }
        let hash = SecretDigest.sha256(secret)
        let rows = try context.database.query("""
            SELECT u.id, u.email, u.name, u.is_admin, u.created_at,
                   s.expires_at, s.absolute_expires_at, s.last_seen_at,
                   EXISTS (SELECT 1 FROM site_invitations i WHERE i.email = lower(u.email)) AS invited
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = \(hash) AND s.expires_at > \(context.now) AND s.absolute_expires_at > \(context.now)
            """)
        guard let row = rows.first else { return nil }
        let user = try User(row: row)
        let expiresAt = try row.decode(Date.self, "expires_at")
        let absoluteExpiresAt = try row.decode(Date.self, "absolute_expires_at")
        let lastSeenAt = try row.decode(Date.self, "last_seen_at")
        let lifetime = context.configuration.sessionLifetime
        var renewedMaxAge: Int?
        if expiresAt.timeIntervalSince(context.now) < lifetime / 2 {
            let newExpiry = min(context.now.addingTimeInterval(lifetime), absoluteExpiresAt)
            try context.database.query(
                "UPDATE sessions SET expires_at = \(newExpiry), last_seen_at = \(context.now) WHERE token_hash = \(hash)")
            renewedMaxAge = Int(newExpiry.timeIntervalSince(context.now))
        } else if context.now.timeIntervalSince(lastSeenAt) > 60 {
            // "Last seen" to the minute, without a write on every request.
            try context.database.query("UPDATE sessions SET last_seen_at = \(context.now) WHERE token_hash = \(hash)")
        }
        if try row.decode(Bool.self, "invited") {
            // Invited to a site while signed in: the site is theirs to see from this request on.
            try context.database.transaction {
                try SiteInvitations.accept(forUser: user.id, from: AuditLog.Origin(ip: nil, userAgent: nil), at: context.now,
                                           on: context.database)
            }
        }
        return Found(user: user, hash: hash.bytes, renewedMaxAge: renewedMaxAge)
    }

    static func delete(hash: [UInt8], context: RequestContext) throws {
        try context.database.query("DELETE FROM sessions WHERE token_hash = \(PostgresBytes(hash))")
    }

    /// Deletes sessions that can no longer be used; the roll-up process calls it now and then. Rows
    /// another transaction holds (a user being deleted, a session being renewed) are left for the
    /// next purge rather than waited for, so the purge can never deadlock with them.
    static func purgeExpired(at now: Date, on database: some PostgresQuerying) throws {
        try database.query("""
            DELETE FROM sessions WHERE token_hash IN (
                SELECT token_hash FROM sessions WHERE expires_at <= \(now) OR absolute_expires_at <= \(now)
                FOR UPDATE SKIP LOCKED)
            """)
    }
}
