import Crypto
import Foundation
import PostgresClient
import TextFormats

/// Applies `migrations/NNNN_name.sql` in order, each in its own transaction, and records what it
/// applied with a checksum so that an edited migration is noticed rather than silently skipped.
public struct Migrator {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
        public var checksum: String {
            SHA256.hash(data: Data(sql.utf8)).withUnsafeBytes { HexDigits.string($0) }
        }
    }

    public struct Status: Sendable {
        public let migration: Migration
        public let appliedAt: Date?
        /// Applied, but the file's text changed since.
        public let changed: Bool
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreadableDirectory(String)
        case badFileName(String)
        case duplicateVersion(Int)
        case changedAfterApplying(version: Int, name: String)
        case unknownApplied(version: Int)
        case failed(version: Int, name: String, PostgresError)

        public var description: String {
            switch self {
            case .unreadableDirectory(let path): "cannot read migrations directory \(path)"
            case .badFileName(let name): "migration file \(name) is not named NNNN_name.sql"
            case .duplicateVersion(let version): "two migrations have version \(version)"
            case .changedAfterApplying(let version, let name):
                "migration \(version) (\(name)) was changed after it was applied; refusing to continue"
            case .unknownApplied(let version): "the database has migration \(version) applied, which is not in the directory"
            case .failed(let version, let name, let error): "migration \(version) (\(name)) failed: \(error.message)"
            }
        }
    }

    public let migrations: [Migration]

    public init(directory: String) throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw Failure.unreadableDirectory(directory)
        }
        var migrations: [Migration] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            let stem = name.dropLast(4)
            let parts = stem.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), !parts[1].isEmpty else {
                throw Failure.badFileName(name)
            }
            guard let sql = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else {
                throw Failure.unreadableDirectory(directory + "/" + name)
            }
            if migrations.contains(where: { $0.version == version }) { throw Failure.duplicateVersion(version) }
            migrations.append(Migration(version: version, name: String(parts[1]), sql: sql))
        }
        self.migrations = migrations
    }

    /// Applies what is pending and returns it. Holds an advisory lock so two migrators never interleave.
    public func migrate(_ connection: PostgresConnection) throws -> [Migration] {
        try prepare(connection)
        try connection.execute("SELECT pg_advisory_lock(72710)")
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock(72710)") }
        let applied = try appliedChecksums(connection)
        try verify(applied)
        var done: [Migration] = []
        for migration in migrations where applied[migration.version] == nil {
            do {
                try connection.transaction {
                    try connection.execute(migration.sql)
                    try connection.query(
                        """
                        INSERT INTO schema_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                        """)
                }
            } catch let error as PostgresError {
                throw Failure.failed(version: migration.version, name: migration.name, error)
            }
            done.append(migration)
        }
        return done
    }

    public func status(_ connection: PostgresConnection) throws -> [Status] {
        try prepare(connection)
        let rows = try connection.query("SELECT version, checksum, applied_at FROM schema_migrations")
        var applied: [Int: (String, Date)] = [:]
        for row in rows {
            applied[try row.decode(Int.self, "version")] = (try row.decode(String.self, "checksum"), try row.decode(Date.self, "applied_at"))
        }
        return migrations.map { migration in
            let record = applied[migration.version]
            return Status(migration: migration, appliedAt: record?.1, changed: record.map { $0.0 != migration.checksum } ?? false)
        }
    }

    /// Whether every migration in the directory has been applied, unchanged.
    public func isCurrent(_ connection: PostgresConnection) throws -> Bool {
        try status(connection).allSatisfy { $0.appliedAt != nil && !$0.changed }
    }

    private func prepare(_ connection: PostgresConnection) throws {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
    }

    private func appliedChecksums(_ connection: PostgresConnection) throws -> [Int: String] {
        var applied: [Int: String] = [:]
        for row in try connection.query("SELECT version, checksum FROM schema_migrations") {
            applied[try row.decode(Int.self, "version")] = try row.decode(String.self, "checksum")
        }
        return applied
    }

    private func verify(_ applied: [Int: String]) throws {
        for (version, checksum) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = migrations.first(where: { $0.version == version }) else {
                throw Failure.unknownApplied(version: version)
            }
            if migration.checksum != checksum {
                throw Failure.changedAfterApplying(version: version, name: migration.name)
            }
        }
    }
}
