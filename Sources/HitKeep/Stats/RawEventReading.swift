import PostgresClient

/// How the rest of a read-only transaction runs statements over up to millions of events (raw
/// events, or a range's session-hours): sorts and hashes in memory, and plans made for the values at
/// hand. PostgreSQL switches a prepared statement to a generic plan after five runs when that plan
/// looks no costlier, and a generic plan cannot see how many rows a site, a range or a filter value
/// holds: a landing breakdown over 10 million events took 8.6 s with one instead of 3.3 s, and
/// answered `query_timeout` under load. Planning anew costs a millisecond or two.
enum RawEventReading {
    /// `parallel`: whether parallel workers may scan (the server's own setting) or none at all.
    /// `compiled`: whether PostgreSQL may compile the plan to machine code (jit), which pays off
    /// for statements that read every matching event of a range and costs tens of milliseconds
    /// for those that read mostly rollups (the transactions of `StatsController` and
    /// `BreakdownController` start without it).
    /// One statement (`set_config(…, true)` is `SET LOCAL`): the filtered rollups call this for every
    /// range that is not whole hours, such as a day in Asia/Kolkata, where three round trips showed.
    static func configure(_ database: any PostgresQuerying, parallel: Bool, compiled: Bool = false) throws {
        let workers: PostgresQuery = parallel
            ? "(SELECT reset_val FROM pg_settings WHERE name = 'max_parallel_workers_per_gather')"
            : "'0'"
        try database.query("""
            SELECT set_config('work_mem', '64MB', true), set_config('plan_cache_mode', 'force_custom_plan', true),
                   set_config('max_parallel_workers_per_gather', \(workers), true), set_config('jit', \(compiled ? "on" : "off"), true)
            """)
    }
}
