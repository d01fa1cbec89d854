import Foundation
import PostgresClient

/// The instance's rules for API clients (docs/API.md §6.7), set by an instance admin: how long a
/// token may live, whether it must expire, which scopes it may hold, and the rate limits. Every
/// creation and change of a client, by either kind of owner and from the API or the CLI, is checked
/// against it in `APIClientSettings`; clients made before a change are listed, never revoked.
public struct TokenPolicy: Sendable, Equatable {
    /// The highest rate limit any policy may allow: the rate limiter's pot counts in 31 bits.
    static let ceilingRateLimit = 1_000_000_000
    static let maximumLifetimeCeiling = 3650
    static let expiringSoonWindow: TimeInterval = 7 * 86_400

    /// nil: tokens may live for ever, unless `expiryRequired`.
    var maxLifetimeDays: Int?
    var expiryRequired: Bool
    var allowedScopes: [Scope]
    var defaultRateLimit: Int
    var maxRateLimit: Int
    /// When an admin last set it, and who; nil while the server's defaults apply.
    var updatedAt: Date?
    var updatedBy: String?

    /// What applies until an admin sets a policy: today's `HITKEEP_TOKEN_MAX_DAYS` for the lifetime.
    static func defaults(_ configuration: Configuration) -> TokenPolicy {
        TokenPolicy(maxLifetimeDays: configuration.maximumTokenLifetimeDays, expiryRequired: false,
                    allowedScopes: Scope.allCases.sorted(), defaultRateLimit: 600, maxRateLimit: 1_000_000)
    }

    /// A policy as an admin sends it: every field required, and the whole consistent. Throws the
    /// first rule it breaks.
    static func validated(maxLifetimeDays: Int?, expiryRequired: Bool, allowedScopes: [String], defaultRateLimit: Int,
                          maxRateLimit: Int) throws(DomainError) -> TokenPolicy {
        if let days = maxLifetimeDays, !(1...maximumLifetimeCeiling).contains(days) {
            throw .invalid("invalid_max_lifetime", "max_lifetime_days must be null (no limit) or from 1 to \(maximumLifetimeCeiling)")
        }
        let scopes = try APIClientSettings.scopes(allowedScopes)
        guard (1...ceilingRateLimit).contains(defaultRateLimit) else {
            throw .invalid("invalid_rate_limit", "default_rate_limit_per_minute must be from 1 to \(ceilingRateLimit)")
        }
        guard (1...ceilingRateLimit).contains(maxRateLimit) else {
            throw .invalid("invalid_rate_limit", "max_rate_limit_per_minute must be from 1 to \(ceilingRateLimit)")
        }
        guard maxRateLimit >= defaultRateLimit else {
            throw .invalid("invalid_rate_limit", "max_rate_limit_per_minute (\(maxRateLimit)) is below default_rate_limit_per_minute (\(defaultRateLimit))")
        }
        return TokenPolicy(maxLifetimeDays: maxLifetimeDays, expiryRequired: expiryRequired, allowedScopes: scopes,
                           defaultRateLimit: defaultRateLimit, maxRateLimit: maxRateLimit)
    }

    /// The latest expiry a client created or changed at `now` may have; nil for none.
    func latestExpiry(from now: Date) -> Date? {
        maxLifetimeDays.map { now.addingTimeInterval(TimeInterval($0) * 86_400) }
    }

    /// The rules `client` breaks, as `{rule, detail}` objects; empty when it satisfies the policy.
    func violations(of client: APIClient) -> [(rule: String, detail: String)] {
        var found: [(String, String)] = []
        if expiryRequired && client.expiresAt == nil {
            found.append(("expiry_required", "never expires, and the policy requires an expiry"))
        }
        if let latest = latestExpiry(from: client.createdAt), let days = maxLifetimeDays,
           client.expiresAt.map({ $0 > latest }) ?? true {
            found.append(("max_lifetime", "lives longer than \(days) days from its creation"))
        }
        let disallowed = client.scopes.filter { !allowedScopes.contains($0) }
        if !disallowed.isEmpty {
            found.append(("scope_not_allowed", "holds " + disallowed.map(\.rawValue).joined(separator: ", ")))
        }
        if client.rateLimitPerMinute > maxRateLimit {
            found.append(("max_rate_limit", "may make \(client.rateLimitPerMinute) requests a minute, above \(maxRateLimit)"))
        }
        return found
    }

    func json() -> JSON {
        .object([
            ("max_lifetime_days", .optional(maxLifetimeDays) { .number(Double($0)) }),
            ("expiry_required", .bool(expiryRequired)),
            ("allowed_scopes", .array(allowedScopes.map { .string($0.rawValue) })),
            ("default_rate_limit_per_minute", .number(Double(defaultRateLimit))),
            ("max_rate_limit_per_minute", .number(Double(maxRateLimit))),
            ("updated_at", .time(updatedAt)),
        ])
    }
}
