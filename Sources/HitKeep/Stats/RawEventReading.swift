import PostgresClient

/// How the rest of a read-only transaction runs statements over up to millions of events (raw
/// events, or a range's session-hours): sorts and hashes in memory, and plans made for the values at
/// hand. PostgreSQL switches a prepared statement to a generic plan after five runs when that plan
/// looks no costlier, and a generic plan cannot see how many rows a site, a range or a filter value
/// holds: a landing breakdown over 10 million events took 8.6 s with one instead of 3.3 s, and
/// answered `query_timeout` under load. Planning anew costs a millisecond or two.
enum RawEventReading {
    /// `parallel`: whether parallel workers may scan (the server's own setting) or none at all.
    static func configure(_ database: any PostgresQuerying, parallel: Bool) throws {
        try database.query("SET LOCAL work_mem = '64MB'")
        try database.query("SET LOCAL plan_cache_mode = force_custom_plan")
        try database.query(parallel ? "SET LOCAL max_parallel_workers_per_gather TO DEFAULT"
                                    : "SET LOCAL max_parallel_workers_per_gather = 0")
    }
}
