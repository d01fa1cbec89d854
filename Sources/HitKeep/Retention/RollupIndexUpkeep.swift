import Foundation
import PostgresClient

/// Rebuilds the rollup indexes that have grown loose (migrations/0025): a fold adds to rows spread
/// over every filter value's stretch of an index, whose pages split as they fill and stay half
/// empty once their quarter hours are over. An index is rebuilt without blocking reads or writes
/// (`REINDEX INDEX CONCURRENTLY`) when it is large enough to matter and has grown, per entry, a
/// quarter beyond what it was right after its last rebuild (at most once a day), or has never been
/// rebuilt. Roll-up processes on several hosts claim an index before rebuilding it, in
/// `rollup_index_rebuilds`, so one rebuilds it at a time.
public struct RollupIndexUpkeep {
    /// The indexes that folds write into all over.
    public static let indexes = ["keyed_session_hours_pkey", "keyed_filtered_traffic_pkey", "keyed_filtered_traffic_days_pkey",
                                 "filtered_counts_pkey", "filtered_session_ends_pkey"]
    /// Smaller indexes are left as they are (HITKEEP_ROLLUP_INDEX_MINIMUM_MB).
    public var minimumBytes: Int
    /// Growth per entry since the last rebuild that calls for the next one.
    public var growth = 1.25
    /// Shortest time between two rebuilds of an index.
    public var interval: TimeInterval = 86_400
    /// A claim older than this belongs to a process that died while rebuilding.
    public var claimLifetime: TimeInterval = 3_600

    public init(minimumBytes: Int) {
        self.minimumBytes = minimumBytes
    }

    /// Rebuilds every index that is due, on `database` outside any transaction (a concurrent rebuild
    /// commits several times); returns their names.
    @discardableResult
    public func apply(on database: any PostgresQuerying) throws -> [String] {
        let due = try database.query("""
            SELECT c.relname AS name
            FROM pg_class c
            LEFT JOIN rollup_index_rebuilds r ON r.index_name = c.relname
            WHERE c.relname = ANY (\(Self.indexes)::text[]) AND c.relkind = 'i'
              AND c.relnamespace = current_schema()::regnamespace
              AND pg_relation_size(c.oid) >= \(minimumBytes)
              AND (r.rebuilt_at IS NULL
                   -- Entries as VACUUM last counted them: none yet (-1, 0) tells no growth.
                   OR (r.rebuilt_at < now() - make_interval(secs => \(interval)) AND c.reltuples > 0
                       AND pg_relation_size(c.oid) / c.reltuples > \(growth) * r.bytes_per_entry))
            ORDER BY pg_relation_size(c.oid) DESC
            """).map { try $0.decode(String.self, "name") }
        var rebuilt: [String] = []
        for name in due where try claim(name, on: database) {
            do {
                try dropUnfinishedCopies(of: name, on: database)
                // The name is one of `indexes`, never anything a request gave.
                try database.query("REINDEX INDEX CONCURRENTLY \(unescaped: name)")
                try database.query("""
                    UPDATE rollup_index_rebuilds
                    SET claimed_at = NULL, rebuilt_at = now(),
                        bytes_per_entry = (SELECT pg_relation_size(oid) / greatest(reltuples, 1) FROM pg_class
                                           WHERE relname = \(name) AND relnamespace = current_schema()::regnamespace)
                    WHERE index_name = \(name)
                    """)
                rebuilt.append(name)
            } catch {
                // A rebuild that failed half way leaves its unfinished copy; the next attempt drops it.
                _ = try? database.query("UPDATE rollup_index_rebuilds SET claimed_at = NULL WHERE index_name = \(name)")
                throw error
            }
        }
        return rebuilt
    }

    /// Whether this process may rebuild `name` now: no other one claimed it within `claimLifetime`.
    private func claim(_ name: String, on database: any PostgresQuerying) throws -> Bool {
        try !database.query("""
            INSERT INTO rollup_index_rebuilds AS r (index_name, claimed_at) VALUES (\(name), now())
            ON CONFLICT (index_name) DO UPDATE SET claimed_at = now()
            WHERE r.claimed_at IS NULL OR r.claimed_at < now() - make_interval(secs => \(claimLifetime))
            RETURNING index_name
            """).isEmpty
    }

    /// Drops what a failed concurrent rebuild of `name` left: an invalid copy named `name_ccnew…`.
    private func dropUnfinishedCopies(of name: String, on database: any PostgresQuerying) throws {
        let copies = try database.query("""
            SELECT i.relname AS copy
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE NOT x.indisvalid AND i.relnamespace = current_schema()::regnamespace
              AND i.relname ~ ('^' || \(name) || '_ccnew[0-9]*$')
            """).map { try $0.decode(String.self, "copy") }
        for copy in copies {
            // Checked by the pattern above: one of `indexes` and a suffix of digits.
            try database.query("DROP INDEX CONCURRENTLY IF EXISTS \(unescaped: copy)")
        }
    }
}
