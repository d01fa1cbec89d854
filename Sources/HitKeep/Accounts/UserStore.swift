import Foundation
import PostgresClient

/// The `users` table.
enum UserStore {
    static let columns: PostgresQuery = "id, email, name, is_admin, created_at"

    struct Credentials {
        let user: User
        let passwordHash: String
    }

    enum CreateFailure: Error {
        case emailTaken
    }

    static func create(email: String, name: String, passwordHash: String, isAdmin: Bool, now: Date,
                       on database: some PostgresQuerying) throws -> User {
        let rows = try database.query("""
            INSERT INTO users (id, email, name, password_hash, is_admin, created_at, updated_at)
            VALUES (\(ULID(date: now).description), \(email), \(name), \(passwordHash), \(isAdmin), \(now), \(now))
            ON CONFLICT DO NOTHING
            RETURNING \(columns)
            """)
        guard let row = rows.first else { throw CreateFailure.emailTaken }
        return try User(row: row)
    }

    static func credentials(email: String, on database: some PostgresQuerying) throws -> Credentials? {
        let rows = try database.query(
            "SELECT \(columns), password_hash FROM users WHERE lower(email) = \(EmailAddress.key(email))")
        guard let row = rows.first else { return nil }
        return Credentials(user: try User(row: row), passwordHash: try row.decode(String.self, "password_hash"))
    }

    static func passwordHash(userID: String, on database: some PostgresQuerying) throws -> String? {
        try database.query("SELECT password_hash FROM users WHERE id = \(userID)").first?["password_hash"]
    }

    static func find(id: String, on database: some PostgresQuerying) throws -> User? {
        try database.query("SELECT \(columns) FROM users WHERE id = \(id)").first.map { try User(row: $0) }
    }

    static func find(email: String, on database: some PostgresQuerying) throws -> User? {
        try database.query("SELECT \(columns) FROM users WHERE lower(email) = \(EmailAddress.key(email))")
            .first.map { try User(row: $0) }
    }

    static func all(on database: some PostgresQuerying) throws -> [User] {
        try database.query("SELECT \(columns) FROM users ORDER BY created_at, id").map { try User(row: $0) }
    }

    static func exists(on database: some PostgresQuerying) throws -> Bool {
        try !database.query("SELECT 1 FROM users LIMIT 1").isEmpty
    }
}
