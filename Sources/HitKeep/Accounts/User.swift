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
        // Without a prefix (the usual case) the names are used as they are, not joined to "".
        func column(_ name: String) -> String { prefix.isEmpty ? name : prefix + name }
        id = try row.decode(String.self, column("id"))
        email = try row.decode(String.self, column("email"))
        name = try row.decode(String.self, column("name"))
        isAdmin = try row.decode(Bool.self, column("is_admin"))
        createdAt = try row.decode(Date.self, column("created_at"))
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
