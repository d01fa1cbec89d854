import Foundation
import PostgresClient

/// Resolves a bearer token to its client and owner. Every request asks PostgreSQL (one indexed
/// lookup), so a deleted or rotated token stops working on every worker of every host at once.
enum APIClientAuthenticator {
    static func authenticate(token: String, context: RequestContext) throws -> (User, APIClientGrant) {
        guard APIToken.isWellFormed(token) else { throw Authenticator.invalidToken("invalid") }
        let hash = SecretDigest.sha256(token)
        let rows = try context.database.query("""
            SELECT c.id AS client_id, c.scopes, c.restricted_to_sites, c.expires_at, c.last_used_at,
                   t.expires_at AS token_expires_at,
                   CASE WHEN c.restricted_to_sites
                        THEN ARRAY(SELECT site_id FROM api_client_sites WHERE client_id = c.id ORDER BY site_id)
                   END AS site_ids,
                   u.id, u.email, u.name, u.is_admin, u.created_at
            FROM api_client_tokens t
            JOIN api_clients c ON c.id = t.client_id
            JOIN users u ON u.id = c.user_id
            WHERE t.token_hash = $1
            """, [hash])
        guard let row = rows.first else {
            let revoked = try context.database.query(
                "SELECT 1 FROM api_client_revoked_tokens WHERE token_hash = $1", [hash])
            throw Authenticator.invalidToken(revoked.isEmpty ? "invalid" : "revoked")
        }
        if let tokenExpiry = try row.decodeIfPresent(Date.self, "token_expires_at"), tokenExpiry <= context.now {
            // A rotated-out token whose grace period is over.
            throw Authenticator.invalidToken("revoked")
        }
        if let expiry = try row.decodeIfPresent(Date.self, "expires_at"), expiry <= context.now {
            throw Authenticator.invalidToken("expired")
        }
        let clientID = try row.decode(String.self, "client_id")
        let scopes = try row.decode([String].self, "scopes").compactMap(Scope.init(rawValue:))
        let grant = APIClientGrant(clientID: clientID, scopes: Set(scopes),
                                   siteIDs: try row.decodeIfPresent([String].self, "site_ids"))
        let lastUsed = try row.decodeIfPresent(Date.self, "last_used_at")
        if lastUsed.map({ context.now.timeIntervalSince($0) >= 60 }) ?? true {
            // At most one write a minute per client; the condition keeps concurrent workers from
            // writing it twice.
            try context.database.query("""
                UPDATE api_clients SET last_used_at = $2
                WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '60 seconds')
                """, [clientID, context.now])
        }
        return (try User(row: row), grant)
    }
}
