import Foundation
import PostgresClient

/// The token policy's one row, and the clients that no longer satisfy it.
enum TokenPolicyStore {
    /// The policy in force: the admin's, or the server's defaults while there is none.
    static func current(_ configuration: Configuration, on database: some PostgresQuerying) throws -> TokenPolicy {
        guard let row = try database.query("""
            SELECT max_lifetime_days, expiry_required, allowed_scopes, default_rate_limit_per_minute,
                   max_rate_limit_per_minute, updated_at, updated_by
            FROM token_policy
            """).first else { return .defaults(configuration) }
        return TokenPolicy(
            maxLifetimeDays: try row.decodeIfPresent(Int.self, "max_lifetime_days"),
            expiryRequired: try row.decode(Bool.self, "expiry_required"),
            allowedScopes: try row.decode([String].self, "allowed_scopes").compactMap(Scope.init(rawValue:)).sorted(),
            defaultRateLimit: try row.decode(Int.self, "default_rate_limit_per_minute"),
            maxRateLimit: try row.decode(Int.self, "max_rate_limit_per_minute"),
            updatedAt: try row.decodeIfPresent(Date.self, "updated_at"),
            updatedBy: try row.decodeIfPresent(String.self, "updated_by"))
    }

    /// Stores `policy` as the instance's; part of the caller's transaction.
    static func replace(with policy: TokenPolicy, by userID: String, now: Date, on database: some PostgresQuerying) throws {
        try database.query("""
            INSERT INTO token_policy (singleton, max_lifetime_days, expiry_required, allowed_scopes,
                                      default_rate_limit_per_minute, max_rate_limit_per_minute, updated_at, updated_by)
            VALUES (true, \(policy.maxLifetimeDays), \(policy.expiryRequired), \(policy.allowedScopes.map(\.rawValue))::text[],
                    \(policy.defaultRateLimit), \(policy.maxRateLimit), \(now), \(userID))
            ON CONFLICT (singleton) DO UPDATE SET
                max_lifetime_days = excluded.max_lifetime_days, expiry_required = excluded.expiry_required,
                allowed_scopes = excluded.allowed_scopes,
                default_rate_limit_per_minute = excluded.default_rate_limit_per_minute,
                max_rate_limit_per_minute = excluded.max_rate_limit_per_minute,
                updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """)
    }

    /// Every client of the instance that breaks a rule of `policy`, with its owner's email and the
    /// rules, oldest first. Narrowed in SQL to the clients that can break one, then checked rule by
    /// rule by the policy itself, so the list and the checks at creation never disagree.
    static func violations(of policy: TokenPolicy, now: Date, on database: some PostgresQuerying) throws -> [JSON] {
        let rows = try database.query("""
            SELECT c.id, u.email AS owner_email FROM api_clients c JOIN users u ON u.id = c.user_id
            WHERE (\(policy.expiryRequired) AND c.expires_at IS NULL)
               OR (\(policy.maxLifetimeDays)::int IS NOT NULL
                   AND (c.expires_at IS NULL OR c.expires_at > c.created_at + make_interval(days => \(policy.maxLifetimeDays)::int)))
               OR NOT (c.scopes <@ \(policy.allowedScopes.map(\.rawValue))::text[])
               OR c.rate_limit_per_minute > \(policy.maxRateLimit)
            ORDER BY c.created_at, c.id
            """)
        var listed: [JSON] = []
        for row in rows {
            let id = try row.decode(String.self, "id")
            guard let client = try APIClientStore.find(anyOwner: id, on: database) else { continue }
            let broken = policy.violations(of: client)
            guard !broken.isEmpty else { continue }
            listed.append(.object([
                ("client", client.json(now: now)),
                ("owner_email", .string(try row.decode(String.self, "owner_email"))),
                ("violations", .array(broken.map { .object([("rule", .string($0.rule)), ("detail", .string($0.detail))]) })),
            ]))
        }
        return listed
    }
}
