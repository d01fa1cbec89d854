import Foundation
import PostgresClient

/// Resolves a bearer token to its client's grant, and checks that it holds the scope the endpoint
/// needs. Every request asks PostgreSQL (one indexed lookup), so a deleted or rotated token stops
/// working on every worker of every host at once.
enum APIClientAuthenticator {
    /// The token's row and its client's, nothing more: the owner's profile is not joined (an
    /// api_clients row always has its user, by foreign key), and a restricted client's sites are left
    /// to the queries that read sites (`SiteStore`). PostgreSQL compares the times with the request's
    /// clock, `$2`, and looks for the endpoint's scope, `$3`, among the client's, so that neither
    /// timestamps nor the scope list come back to be parsed.
    ///
    /// `refusal` says why a known token is refused, if it is (NULL: it is not): a rotated-out token
    /// whose grace period is over was revoked; an expired client's tokens have expired. The
    /// comparisons are those the request's clock would give in Swift: `$2` arrives cut to
    /// microseconds, as stored times are, and `t <= now` holds for such a `t` exactly when it holds
    /// against `now` cut down to microseconds. `holds_scope` is NULL when no scope is asked for.
    private static let lookup = """
        SELECT c.id, c.user_id, c.restricted_to_sites, $3 = ANY(c.scopes) AS holds_scope,
               CASE WHEN t.expires_at <= $2 THEN 'revoked' WHEN c.expires_at <= $2 THEN 'expired' END AS refusal,
               c.last_used_at IS NULL OR c.last_used_at <= $2::timestamptz - interval '60 seconds' AS last_use_stale
        FROM api_client_tokens t
        JOIN api_clients c ON c.id = t.client_id
        WHERE t.token_hash = $1
        """

    /// - Parameter scope: the scope the endpoint needs (403 `insufficient_scope` without it), or nil
    ///   where any valid token will do.
    static func authenticate(token: String, requiring scope: Scope?, context: RequestContext) throws -> APIClientGrant {
        guard APIToken.isWellFormed(token) else { throw Authenticator.invalidToken("invalid") }
        let hash = SecretDigest.sha256(token)
        let rows = try context.database.query(lookup, [hash, context.now, scope?.rawValue])
        guard let row = rows.first else {
            let revoked = try context.database.query(
                "SELECT 1 FROM api_client_revoked_tokens WHERE token_hash = $1", [hash])
            throw Authenticator.invalidToken(revoked.isEmpty ? "invalid" : "revoked")
        }
        if let refusal = row["refusal"] {
            throw Authenticator.invalidToken(refusal)
        }
        let clientID = try row.decode(String.self, "id")
        let grant = APIClientGrant(clientID: clientID, ownerID: try row.decode(String.self, "user_id"),
                                   restrictedToSites: try row.decode(Bool.self, "restricted_to_sites"))
        if try row.decode(Bool.self, "last_use_stale") {
            // At most one write a minute per client; the condition keeps concurrent workers from
            // writing it twice.
            try context.database.query("""
                UPDATE api_clients SET last_used_at = $2
                WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '60 seconds')
                """, [clientID, context.now])
        }
        // Checked after the use is recorded: a token used with too few scopes was still used.
        if let scope, try !row.decode(Bool.self, "holds_scope") {
            throw Authenticator.insufficientScope(scope)
        }
        return grant
    }
}
