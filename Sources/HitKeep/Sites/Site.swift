import Foundation
import PostgresClient

/// A site as one principal sees it: with that principal's role.
public struct Site: Sendable {
    public var id: String
    public var domain: String
    public var name: String
    public var timezone: String
    public var createdAt: Date
    public var role: SiteRole
    /// Days its raw events are kept; nil: as long as the instance keeps them (HITKEEP_RETENTION_DAYS).
    public var retentionDays: Int?
    /// Its raw-event horizon (migrations/0019): raw events before it may be removed; nil when none has been.
    public var rawEventsSince: Date?

    init(row: PostgresRow) throws {
        id = try row.decode(String.self, "id")
        domain = try row.decode(String.self, "domain")
        name = try row.decode(String.self, "name")
        timezone = try row.decode(String.self, "timezone")
        createdAt = try row.decode(Date.self, "created_at")
        guard let role = SiteRole(rawValue: try row.decode(String.self, "role")) else {
            throw PostgresError(kind: .decoding, message: "unknown site role")
        }
        self.role = role
        retentionDays = try row.decodeIfPresent(Int.self, "retention_days")
        rawEventsSince = try row.decodeIfPresent(Date.self, "raw_events_since")
    }

    var json: JSON {
        .object([
            ("id", .string(id)),
            ("domain", .string(domain)),
            ("name", .string(name)),
            ("timezone", .string(timezone)),
            ("created_at", .time(createdAt)),
            ("role", .string(role.rawValue)),
            ("retention_days", .optional(retentionDays, JSON.int)),
            ("raw_events_since", .time(rawEventsSince)),
        ])
    }
}
