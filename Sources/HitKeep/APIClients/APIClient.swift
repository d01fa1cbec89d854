import Foundation
import PostgresClient

/// An API client as its owner sees it (docs/API.md §6.1). The token itself is never part of it.
struct APIClient: Sendable {
    var id: String
    var owner: APIClientOwner
    /// The person who created it; nil once their account is gone, or for a site's client made at
    /// the command line.
    var createdBy: String?
    var name: String
    var description: String
    var tokenHint: String
    var scopes: [Scope]
    /// nil: every site the owner can access; a site's client lists its own site.
    var siteIDs: [String]?
    var createdAt: Date
    var updatedAt: Date
    var expiresAt: Date?
    var lastUsedAt: Date?
    /// The token a rotation replaced, while its grace period lasts.
    var previousTokenHint: String?
    var previousTokenExpiresAt: Date?
    /// Requests a minute its token may make (`ClientRateLimiter`).
    var rateLimitPerMinute: Int

    init(row: PostgresRow) throws {
        id = try row.decode(String.self, "id")
        if let siteID = try row.decodeIfPresent(String.self, "site_id") {
            owner = .site(siteID)
        } else {
            owner = .user(try row.decode(String.self, "user_id"))
        }
        createdBy = try row.decodeIfPresent(String.self, "created_by")
        name = try row.decode(String.self, "name")
        description = try row.decode(String.self, "description")
        tokenHint = try row.decodeIfPresent(String.self, "current_token_hint") ?? ""
        scopes = try row.decode([String].self, "scopes").compactMap(Scope.init(rawValue:)).sorted()
        siteIDs = try row.decodeIfPresent([String].self, "site_ids")
        createdAt = try row.decode(Date.self, "created_at")
        updatedAt = try row.decode(Date.self, "updated_at")
        expiresAt = try row.decodeIfPresent(Date.self, "expires_at")
        lastUsedAt = try row.decodeIfPresent(Date.self, "last_used_at")
        previousTokenHint = try row.decodeIfPresent(String.self, "previous_token_hint")
        previousTokenExpiresAt = try row.decodeIfPresent(Date.self, "previous_token_expires_at")
        rateLimitPerMinute = try row.decode(Int.self, "rate_limit_per_minute")
    }

    func isExpired(at now: Date) -> Bool {
        expiresAt.map { $0 <= now } ?? false
    }

    /// Whether it expires within the next 7 days (and has not yet): the dashboard flags it, so that
    /// its owner rotates or replaces it before an integration breaks.
    func expiresSoon(at now: Date) -> Bool {
        expiresAt.map { $0 > now && $0 <= now.addingTimeInterval(TokenPolicy.expiringSoonWindow) } ?? false
    }

    /// The members of `json()`, in order, for listings that show them as columns.
    static let fieldNames = ["id", "name", "description", "token_hint", "scopes", "site_ids", "created_at", "updated_at",
                             "expires_at", "last_used_at", "previous_token_hint", "previous_token_expires_at", "owner",
                             "created_by", "rate_limit_per_minute", "expires_soon"]

    /// The client object as of `now`; `token` is added only by create and rotate.
    func json(token: String? = nil, now: Date = Date()) -> JSON {
        var members: [(String, JSON)] = [
            ("id", .string(id)),
            ("name", .string(name)),
            ("description", .string(description)),
            ("token_hint", .string(tokenHint)),
            ("scopes", .array(scopes.map { .string($0.rawValue) })),
            ("site_ids", .optional(siteIDs) { .array($0.map(JSON.string)) }),
            ("created_at", .time(createdAt)),
            ("updated_at", .time(updatedAt)),
            ("expires_at", .time(expiresAt)),
            ("last_used_at", .time(lastUsedAt)),
            ("previous_token_hint", .optional(previousTokenHint, JSON.string)),
            ("previous_token_expires_at", .time(previousTokenExpiresAt)),
            ("owner", owner.json),
            ("created_by", .optional(createdBy, JSON.string)),
            ("rate_limit_per_minute", .number(Double(rateLimitPerMinute))),
            ("expires_soon", .bool(expiresSoon(at: now))),
        ]
        assert(members.map(\.0) == Self.fieldNames, "APIClient.fieldNames names json()'s members")
        if let token { members.append(("token", .string(token))) }
        return .object(members)
    }
}
