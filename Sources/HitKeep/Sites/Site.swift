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
    }

    var json: JSON {
        .object([
            ("id", .string(id)),
            ("domain", .string(domain)),
            ("name", .string(name)),
            ("timezone", .string(timezone)),
            ("created_at", .time(createdAt)),
            ("role", .string(role.rawValue)),
        ])
    }
}
