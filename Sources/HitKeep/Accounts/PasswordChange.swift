import PostgresClient

/// Setting an account's password, as the API (the person, knowing the current one) and the command
/// line (an operator) both do it: the new hash stored, every other session ended, the change logged,
/// and, if asked, every API client revoked, in one transaction. A token an intruder made would
/// otherwise outlive the recovery.
enum PasswordChange {
    static func apply(newPasswordHash: String, keepingSession sessionHash: [UInt8]?, revokingAPIClients: Bool,
                      by author: AuditLog.Author, on database: some PostgresQuerying) throws {
        let kept = sessionHash.map { PostgresBytes($0) }
        let userID = try author.person()
        try database.transaction(begin: "BEGIN") {
            try PasswordChangeThrottle.clear(userID: userID, on: database)
            try database.query("""
                UPDATE users SET password_hash = \(newPasswordHash), updated_at = \(author.now) WHERE id = \(userID)
                """)
            try database.query("""
                DELETE FROM sessions WHERE user_id = \(userID) AND (\(kept)::bytea IS NULL OR token_hash <> \(kept)::bytea)
                """)
            try AuditLog.record("password.changed", by: author, on: database)
            if revokingAPIClients {
                try APIClientIssuer.revokeAll(by: author, on: database)
            }
        }
    }
}
