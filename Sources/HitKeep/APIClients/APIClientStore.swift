import Foundation
import PostgresClient

/// API clients and their token hashes. Callers run the writes inside a transaction.
enum APIClientStore {
    /// The columns `APIClient(row:)` decodes, of `api_clients c`.
    private static let columns: PostgresQuery = """
        c.id, c.user_id, c.site_id, c.created_by, c.name, c.description, c.scopes, c.created_at, c.updated_at,
               c.expires_at, c.last_used_at, c.rate_limit_per_minute,
               (SELECT hint FROM api_client_tokens t WHERE t.client_id = c.id
                ORDER BY t.expires_at IS NOT NULL, t.created_at DESC LIMIT 1) AS current_token_hint,
               -- A token rotated out with a grace period, while it still works. now() is the
               -- transaction's start, which is when the request began.
               (SELECT hint FROM api_client_tokens t WHERE t.client_id = c.id AND t.expires_at > now()
                ORDER BY t.expires_at DESC LIMIT 1) AS previous_token_hint,
               (SELECT max(t.expires_at) FROM api_client_tokens t WHERE t.client_id = c.id AND t.expires_at > now())
                   AS previous_token_expires_at,
               CASE WHEN c.site_id IS NOT NULL THEN ARRAY[c.site_id]
                    WHEN c.restricted_to_sites
                    THEN ARRAY(SELECT site_id FROM api_client_sites s WHERE s.client_id = c.id ORDER BY site_id)
               END AS site_ids
        """
    private static let select: PostgresQuery = "SELECT \(columns) FROM api_clients c"

    struct New {
        var name: String
        var description: String
        var scopes: [Scope]
        var siteIDs: [String]?
        var expiresAt: Date?
        /// nil until the token policy gives its default (`TokenPolicy.admit`).
        var rateLimitPerMinute: Int? = nil
    }

    struct Changes {
        var name: String?
        var description: String?
        var scopes: [Scope]?
        /// Outer nil: unchanged; inner nil: every site.
        var siteIDs: [String]??
        /// Outer nil: unchanged; inner nil: never expires.
        var expiresAt: Date??
        var rateLimitPerMinute: Int?
    }

    static func list(owner: APIClientOwner, on database: some PostgresQuerying) throws -> [APIClient] {
        try database.query("\(select) WHERE \(owner.condition) ORDER BY c.created_at DESC, c.id DESC")
            .map { try APIClient(row: $0) }
    }

    /// The owner's client, or nil: another owner's client is not theirs to know about.
    static func find(_ id: String, owner: APIClientOwner, on database: some PostgresQuerying) throws -> APIClient? {
        guard ULID.isValid(id) else { return nil }
        return try database.query("\(select) WHERE c.id = \(id) AND \(owner.condition)")
            .first.map { try APIClient(row: $0) }
    }

    /// The client `id`, whoever owns it: for the instance admin's list of clients that break the
    /// token policy.
    static func find(anyOwner id: String, on database: some PostgresQuerying) throws -> APIClient? {
        try database.query("\(select) WHERE c.id = \(id)").first.map { try APIClient(row: $0) }
    }

    /// Creates the client and returns it with its token, shown this once. `creatorID` is the person
    /// who asked for it, if anyone did (nil: an operator at the command line, for a site).
    static func create(_ new: New, owner: APIClientOwner, creatorID: String?, now: Date,
                       on database: some PostgresQuerying) throws -> (APIClient, String) {
        // The owner's row is locked so that concurrent creations count each other.
        switch owner {
        case .user(let id): try database.query("SELECT 1 FROM users WHERE id = \(id) FOR UPDATE")
        case .site(let id): try database.query("SELECT 1 FROM sites WHERE id = \(id) FOR UPDATE")
        }
        let count = try database.query("SELECT count(*) AS n FROM api_clients c WHERE \(owner.condition)")[0]
            .decode(Int.self, "n")
        guard count < APIClientSettings.maximumClientsPerUser else {
            let holder = owner.siteID == nil ? "you have" : "this site has"
            throw DomainError.conflict("too_many_clients",
                                       "\(holder) \(APIClientSettings.maximumClientsPerUser) API clients; delete one first")
        }
        let id = ULID(date: now).description
        // A site's client is limited to its own site through site_id, with no api_client_sites rows.
        try database.query("""
            INSERT INTO api_clients (id, user_id, site_id, created_by, name, description, scopes, restricted_to_sites,
                                     created_at, updated_at, expires_at, rate_limit_per_minute)
            VALUES (\(id), \(owner.userID), \(owner.siteID), \(creatorID), \(new.name), \(new.description),
                    \(new.scopes.map(\.rawValue)), \(owner.siteID != nil || new.siteIDs != nil), \(now), \(now), \(new.expiresAt),
                    \(new.rateLimitPerMinute))
            """)
        if let siteIDs = new.siteIDs, let userID = owner.userID {
            try replaceSites(of: id, ownedBy: userID, with: siteIDs, on: database)
        }
        let token = try issueToken(for: id, now: now, on: database)
        guard let client = try find(id, owner: owner, on: database) else {
            throw PostgresError(kind: .decoding, message: "created client vanished")
        }
        return (client, token)
    }

    /// Applies the changes to the owner's client `id`; nil when the owner has no such client. A
    /// site's client keeps its site: its `changes.siteIDs` must be nil.
    static func update(_ id: String, owner: APIClientOwner, with changes: Changes, now: Date,
                       on database: some PostgresQuerying) throws -> APIClient? {
        precondition(owner.userID != nil || changes.siteIDs == nil, "a site's client is limited to its site")
        let setExpiry = changes.expiresAt != nil
        let setSites = changes.siteIDs != nil
        let rows = try database.query("""
            UPDATE api_clients c SET
                name = coalesce(\(changes.name), name),
                description = coalesce(\(changes.description), description),
                scopes = coalesce(\(changes.scopes?.map(\.rawValue))::text[], scopes),
                restricted_to_sites = CASE WHEN \(setSites) THEN \((changes.siteIDs ?? nil) != nil) ELSE restricted_to_sites END,
                expires_at = CASE WHEN \(setExpiry) THEN \(changes.expiresAt ?? nil)::timestamptz ELSE expires_at END,
                rate_limit_per_minute = coalesce(\(changes.rateLimitPerMinute)::int, rate_limit_per_minute),
                updated_at = \(now)
            WHERE c.id = \(id) AND \(owner.condition)
            RETURNING c.id
            """)
        guard !rows.isEmpty else { return nil }
        if let siteIDs = changes.siteIDs, let userID = owner.userID {
            try replaceSites(of: id, ownedBy: userID, with: siteIDs ?? [], on: database)
        }
        return try find(id, owner: owner, on: database)
    }

    /// Issues a new token. The old ones die now, or live `graceSeconds` longer (never beyond an
    /// earlier expiry of their own).
    static func rotate(_ id: String, graceSeconds: Int, now: Date, on database: some PostgresQuerying) throws -> String {
        if graceSeconds == 0 {
            try revokeTokens(of: id, now: now, on: database)
        } else {
            try revokeTokens(of: id, now: now, onlyExpired: true, on: database)
            let graceEnd = now.addingTimeInterval(TimeInterval(graceSeconds))
            try database.query("""
                UPDATE api_client_tokens SET expires_at = LEAST(coalesce(expires_at, \(graceEnd)), \(graceEnd)) WHERE client_id = \(id)
                """)
        }
        try database.query("UPDATE api_clients SET updated_at = \(now) WHERE id = \(id)")
        return try issueToken(for: id, now: now, on: database)
    }

    /// Deletes the client; its token hashes are kept as revoked so a late caller is told why.
    static func delete(_ id: String, now: Date, on database: some PostgresQuerying) throws {
        try revokeTokens(of: id, now: now, on: database)
        try database.query("DELETE FROM api_clients WHERE id = \(id)")
    }

    /// Deletes every client of the owner as `delete` does one; returns their ids and names.
    static func deleteAll(owner: APIClientOwner, now: Date, on database: some PostgresQuerying) throws -> [(id: String, name: String)] {
        let rows = try database.query("""
            WITH gone AS (
                DELETE FROM api_clients c WHERE \(owner.condition) RETURNING c.id, c.name
            ), revoked AS (
                INSERT INTO api_client_revoked_tokens (token_hash, revoked_at)
                SELECT t.token_hash, \(now) FROM api_client_tokens t JOIN gone ON gone.id = t.client_id
                ON CONFLICT (token_hash) DO NOTHING
            )
            SELECT id, name FROM gone ORDER BY id
            """)
        return try rows.map { (try $0.decode(String.self, "id"), try $0.decode(String.self, "name")) }
    }

    /// What the holder of the token with this hash may learn about it (`GET /api/token`): its
    /// client, the token itself (during a rotation's grace period, the old one), and the person a
    /// user's client acts for. Joined to the token's lookup, it is one statement.
    static func introspection(ofToken hash: PostgresBytes) -> PrincipalRead<TokenIntrospection> {
        PrincipalRead("""
            SELECT \(columns),
                   t.hint AS presented_hint, least(t.expires_at, c.expires_at) AS presented_expires_at,
                   t.expires_at IS NOT NULL AS presented_rotated_out, u.email AS owner_email
            FROM api_client_tokens t
            JOIN api_clients c ON c.id = t.client_id
            LEFT JOIN users u ON u.id = c.user_id
            WHERE t.token_hash = \(hash)
            """) { row in
            let client = try APIClient(row: row)
            return TokenIntrospection(
                client: client,
                presented: .init(hint: try row.decode(String.self, "presented_hint"),
                                 expiresAt: try row.decodeIfPresent(Date.self, "presented_expires_at"),
                                 rotatedOut: try row.decode(Bool.self, "presented_rotated_out")),
                ownerEmail: try row.decodeIfPresent(String.self, "owner_email"))
        }
    }

    private static func issueToken(for clientID: String, now: Date, on database: some PostgresQuerying) throws -> String {
        let token = APIToken.generate()
        try database.query(
            """
            INSERT INTO api_client_tokens (token_hash, client_id, hint, created_at)
            VALUES (\(SecretDigest.sha256(token)), \(clientID), \(APIToken.hint(token)), \(now))
            """)
        return token
    }

    /// Moves token hashes to the revoked list: all of them, or those whose grace period is over.
    private static func revokeTokens(of clientID: String, now: Date, onlyExpired: Bool = false,
                                     on database: some PostgresQuerying) throws {
        try database.query("""
            WITH gone AS (
                DELETE FROM api_client_tokens
                WHERE client_id = \(clientID) AND (NOT \(onlyExpired) OR expires_at <= \(now))
                RETURNING token_hash
            )
            INSERT INTO api_client_revoked_tokens (token_hash, revoked_at)
            SELECT token_hash, \(now) FROM gone ON CONFLICT (token_hash) DO NOTHING
            """)
    }

    /// Restricts the client to `siteIDs`; refused (403) if the owner cannot access every one of them.
    private static func replaceSites(of clientID: String, ownedBy ownerID: String, with siteIDs: [String],
                                     on database: some PostgresQuerying) throws {
        try database.query("DELETE FROM api_client_sites WHERE client_id = \(clientID)")
        guard !siteIDs.isEmpty else { return }
        let inserted = try database.query("""
            INSERT INTO api_client_sites (client_id, site_id)
            SELECT \(clientID), site_id FROM site_members WHERE user_id = \(ownerID) AND site_id = ANY(\(siteIDs)::text[])
            """)
        guard inserted.affectedRows == siteIDs.count else {
            throw DomainError.forbidden("site_ids names a site you cannot access")
        }
    }
}
