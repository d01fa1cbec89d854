import Foundation
import PostgresClient

/// The database's count of each client's requests per minute, shared by every pool on every host:
/// a pool leases a chunk of the minute's quota from it in one statement, and the count never goes
/// past the limit, so no two pools together hand out more than the limit.
enum QuotaLedger {
    struct Lease {
        /// Requests handed to the caller: the chunk asked for, or what was left of the limit.
        var granted: Int
        /// Requests of the minute handed out to every pool so far, this lease included.
        var taken: Int
    }

    /// Takes up to `chunk` requests of `clientID`'s minute starting at `windowStart`. One statement,
    /// committed on its own: the row is locked only for the moment of the update, and a request that
    /// fails afterwards does not give back what its pool leased (the pool keeps spending it).
    static func lease(_ clientID: String, windowStart: Date, chunk: Int, limit: Int,
                      on database: some PostgresQuerying) throws -> Lease {
        let grant = min(chunk, limit)
        let rows = try database.query("""
            INSERT INTO api_client_rate_windows AS w (client_id, window_start, taken, last_grant)
            VALUES (\(clientID), \(windowStart), \(grant)::int8, \(grant)::int8)
            ON CONFLICT (client_id, window_start) DO UPDATE
                SET taken = least(w.taken + excluded.last_grant, \(limit)::int8),
                    last_grant = least(excluded.last_grant, \(limit)::int8 - w.taken)
                WHERE w.taken < \(limit)::int8
            RETURNING taken, last_grant
            """)
        guard let row = rows.first else { return Lease(granted: 0, taken: limit) }
        return Lease(granted: try row.decode(Int.self, "last_grant"), taken: try row.decode(Int.self, "taken"))
    }

    /// Forgets minutes that are over; the roll-up process calls it now and then.
    static func purge(before cutoff: Date, on database: some PostgresQuerying) throws {
        try database.query("DELETE FROM api_client_rate_windows WHERE window_start < \(cutoff)")
    }
}
