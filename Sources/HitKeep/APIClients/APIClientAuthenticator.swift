import Foundation
import PostgresClient

/// Resolves a bearer token to its client's grant, and checks that it holds the scope the endpoint
/// needs. Every request asks PostgreSQL (one indexed lookup), so a deleted or rotated token stops
/// working on every worker of every host at once.
enum APIClientAuthenticator {
    /// The token's row and its client's as the one-row relation a `PrincipalRead` reads through,
    /// for the token's hash, the request's clock, and the scope the endpoint needs. The owner's
    /// profile is not joined (an api_clients row always has its user or its site, by foreign key), and
    /// a restricted client's sites are left to the reads. A site's client has no user: `user_id` is
    /// NULL and `site_id` names its site. PostgreSQL compares the times with the request's clock and
    /// looks for the scope among the client's, so that neither timestamps nor the scope list come
    /// back to be parsed.
    ///
    /// `refusal` says why a known token is refused, if it is (NULL: it is not): a rotated-out token
    /// whose grace period is over was revoked; an expired client's tokens have expired. The
    /// comparisons are those the request's clock would give in Swift: the clock arrives cut to
    /// microseconds, as stored times are, and `t <= now` holds for such a `t` exactly when it holds
    /// against `now` cut down to microseconds. `holds_scope` is NULL when no scope is asked for.
    static func lookup(hash: PostgresBytes, now: Date, scope: Scope?) -> PostgresQuery {
        """
        SELECT c.id AS client_id, c.user_id, c.site_id, c.rate_limit_per_minute,
               CASE WHEN c.restricted_to_sites THEN c.id END AS restricting_client_id,
               \(scope?.rawValue) = ANY(c.scopes) AS holds_scope,
               CASE WHEN t.expires_at <= \(now) THEN 'revoked' WHEN c.expires_at <= \(now) THEN 'expired' END AS refusal,
               c.last_used_at IS NULL OR c.last_used_at <= \(now)::timestamptz - interval '60 seconds' AS last_use_stale
        FROM api_client_tokens t
        JOIN api_clients c ON c.id = t.client_id
        WHERE t.token_hash = \(hash)
        """
    }

    /// The grant as a statement returns it, under names no read uses.
    static let grantColumns: PostgresQuery = """
        principal.client_id AS token_client_id, principal.user_id AS token_user_id, principal.site_id AS token_site_id,
        principal.restricting_client_id IS NOT NULL AS token_restricted, principal.holds_scope AS token_holds_scope,
        principal.refusal AS token_refusal, principal.last_use_stale AS token_last_use_stale,
        principal.rate_limit_per_minute AS token_rate_limit
        """

    /// Resolves the token to its grant and, in the same statement, runs `read` (if any) as its client
    /// sees it.
    ///
    /// - Parameter scope: the scope the endpoint needs (403 `insufficient_scope` without it), or nil
    ///   where any valid token will do.
    static func authenticate<Row>(token: String, requiring scope: Scope?, reading read: PrincipalRead<Row>?,
                                  context: RequestContext) throws -> (grant: APIClientGrant, rows: [Row]) {
        guard APIToken.isWellFormed(token) else { throw Authenticator.invalidToken("invalid") }
        let hash = SecretDigest.sha256(token)
        let lookup = lookup(hash: hash, now: context.now, scope: scope)
        let asMember = read?.memberBody != nil && context.memberTokens?.contains(hash) == true
        let rows = try context.database.query(read?.query(joinedTo: lookup, asMember: asMember)
                                              ?? "SELECT \(grantColumns) FROM (\(lookup)) principal")
        guard let row = rows.first else {
            let revoked = try context.database.query("SELECT 1 FROM api_client_revoked_tokens WHERE token_hash = \(hash)")
            throw Authenticator.invalidToken(revoked.isEmpty ? "invalid" : "revoked")
        }
        if let refusal = row["token_refusal"] {
            throw Authenticator.invalidToken(refusal)
        }
        let clientID = try row.decode(String.self, "token_client_id")
        context.apiClientID = clientID
        // Before anything else the request does: a refused request writes nothing. Its read, if
        // joined above, is thrown away.
        try context.rateLimiter?.admit(clientID: clientID, limit: try row.decode(Int.self, "token_rate_limit"), context: context)
        let owner: APIClientOwner = if let siteID = try row.decodeIfPresent(String.self, "token_site_id") {
            .site(siteID)
        } else {
            .user(try row.decode(String.self, "token_user_id"))
        }
        let grant = APIClientGrant(clientID: clientID, owner: owner, restrictedToSites: try row.decode(Bool.self, "token_restricted"))
        context.memberTokens?.record(hash, isMember: grant.actsAsMember)
        if try row.decode(Bool.self, "token_last_use_stale") {
            // At most one write a minute per client; the condition keeps concurrent workers from
            // writing it twice.
            try context.database.query("""
                UPDATE api_clients SET last_used_at = \(context.now)
                WHERE id = \(clientID) AND (last_used_at IS NULL OR last_used_at <= \(context.now)::timestamptz - interval '60 seconds')
                """)
        }
        // Checked after the use is recorded: a token used with too few scopes was still used.
        if let scope, try !row.decode(Bool.self, "token_holds_scope") {
            throw Authenticator.insufficientScope(scope)
        }
        guard let read else { return (grant, []) }
        if asMember, !grant.actsAsMember {
            // The client changed since its last request here: the member form gave it no rows.
            return (grant, try read.rows(ofJoined: context.database.query(read.query(joinedTo: lookup))))
        }
        return (grant, try read.rows(ofJoined: rows))
    }
}
