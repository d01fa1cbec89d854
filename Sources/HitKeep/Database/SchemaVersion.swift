import PostgresClient

/// The schema this build's statements are written for: the last file in `migrations/`. A binary
/// started on a database that `hitkeep migrate` has not brought this far (an upgrade whose
/// migrate step was forgotten, or is still to come on another host) would fail on the first
/// statement naming a new column or function, with a 500 that says nothing useful. Its connections
/// check the version instead, and the requests answer 503 `database_not_migrated` until the
/// migration is applied; the workers then go on by themselves. A database further along is
/// accepted: a rolling upgrade migrates while the older build still serves.
public enum SchemaVersion {
    public static let required = 52

    /// The highest migration `schema_migrations` records; 0 when nothing was ever migrated.
    static func applied(on connection: PostgresConnection) throws -> Int {
        do {
            return try connection.query("SELECT coalesce(max(version), 0) AS version FROM schema_migrations")[0]
                .decode(Int.self, "version")
        } catch let error as PostgresError where error.sqlState == "42P01" {
            return 0
        }
    }
}

/// A connection found the database's schema older than `SchemaVersion.required`.
public struct SchemaBehind: Error, CustomStringConvertible {
    public let applied: Int
    public let required: Int

    public var description: String {
        "the database has migrations up to \(applied) applied and this build needs \(required): run `hitkeep migrate`"
    }
}
