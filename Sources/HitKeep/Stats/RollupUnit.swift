import PostgresClient

/// The rollup units that add up sessions: session-hours (`traffic_hourly`, migrations/0004) and
/// session-quarters (`filtered_traffic`, migrations/0012). Each row counts the units that start at
/// the same time and link to the same previous and next unit of their sessions, with the sums of
/// their first and last page views' offsets from that start (`first_offset_us`, `last_offset_us`).
struct RollupUnit: Sendable {
    /// The column of the unit's start (`hour`, `quarter`); `prev_…` and `next_…` are named after it.
    let start: String
    /// The column of how many units the row counts.
    let count: String

    static let hour = RollupUnit(start: "hour", count: "session_hours")
    static let quarter = RollupUnit(start: "quarter", count: "session_quarters")

    /// Σ over the sessions in `range` of (last − first page view), in microseconds, as SQL over rows
    /// of these units (named with `alias.` when given). A session begins in its first unit in the
    /// range (previous unit before `from`) and ends in its last (next unit at or after `to`).
    ///
    /// Each session has exactly one first and one last unit, so unit starts may be counted from any
    /// fixed instant: counted in whole seconds from `from`, they stay 64-bit integers (a range spans
    /// at most five years), and the per-row arithmetic is integer, not `numeric`, which made this sum
    /// most of the cost of a totals query over thousands of rows.
    func durationMicroseconds(in range: StatsRange, alias: String? = nil) -> PostgresQuery {
        let column = { (name: String) in PostgresQuery(unescaped: alias.map { "\($0).\(name)" } ?? name) }
        let first: PostgresQuery = "\(column("prev_\(start)")) < \(range.from)"
        let last: PostgresQuery = "\(column("next_\(start)")) >= \(range.to)"
        let origin = Int(range.from.timeIntervalSince1970.rounded(.down))
        let seconds: PostgresQuery = "\(column(count))::bigint * (date_part('epoch', \(column(start)))::bigint - \(origin))"
        return """
            (coalesce(sum(\(column("last_offset_us"))) FILTER (WHERE \(last)), 0)
             - coalesce(sum(\(column("first_offset_us"))) FILTER (WHERE \(first)), 0)
             + 1000000 * (coalesce(sum(\(seconds)) FILTER (WHERE \(last)), 0) - coalesce(sum(\(seconds)) FILTER (WHERE \(first)), 0)))
            """
    }
}
