import Foundation
import PostgresClient

public struct User: Sendable {
    public var id: String
    public var email: String
    public var name: String
    public var isAdmin: Bool
    public var createdAt: Date

    /// Reads the columns `id, email, name, is_admin, created_at` (optionally prefixed, e.g. `user_`).
    init(row: PostgresRow, prefix: String = "") throws {
        id = try row.decode(String.self, prefix + "id")
        email = try row.decode(String.self, prefix + "email")
        name = try row.decode(String.self, prefix + "name")
        isAdmin = try row.decode(Bool.self, prefix + "is_admin")
        createdAt = try row.decode(Date.self, prefix + "created_at")
    }

    var json: JSON {
        .object([
            ("id", .string(id)),
            ("email", .string(email)),
            ("name", .string(name)),
            ("created_at", .time(createdAt)),
        ])
    }
}
