import Foundation
import PostgresClient

/// The rollup rows that count the session-quarters of one filter (or set of profiles) in ranges of
/// whole quarter hours: the whole UTC days inside a range from `filtered_traffic_days`
/// (migrations/0025) once the roll-up process has closed them, the quarter hours at its ends and of
/// the days not closed yet from `filtered_traffic` (0012). A day row reads
/// as its quarters' rows added up would for a range holding the whole day, so the same sums
/// (`RollupUnit.quarter`) apply to both; a 30-day range reads 30 rows per profile instead of 2 880.
enum FilteredTrafficRows {
    /// SQL of the rows of each range, numbered from 1 in `number`, with `filtered_traffic`'s columns
    /// (`quarter` is a day row's day). `key` follows the `filter` column (`= 7`, `= ANY (…)`, `= v.id`).
    static func of(_ ranges: [StatsRange], siteID: String, key: PostgresQuery) -> PostgresQuery {
        var quarters = NumberedSpans()
        var days = NumberedSpans()
        for (index, range) in ranges.enumerated() {
            let number = index + 1
            let whole = range.wholeDays
            guard whole.from < whole.to else {
                quarters.add(range.from, range.to, number)
                continue
            }
            quarters.add(range.from, whole.from, number)
            days.add(whole.from, whole.to, number)
            quarters.add(whole.to, range.to, number)
        }
        // Days not added up yet (the current one, and any before the roll-up process closed them)
        // are read as quarters.
        return """
            SELECT s.number, t.quarter, t.prev_quarter, t.next_quarter, t.session_quarters, t.pageviews, t.singles,
                   t.first_offset_us, t.last_offset_us
            FROM (SELECT * FROM unnest(\(quarters.from)::timestamptz[], \(quarters.to)::timestamptz[], \(quarters.number)::integer[])
                  UNION ALL
                  SELECT greatest(lo, c.closed_before), hi, number
                  FROM unnest(\(days.from)::timestamptz[], \(days.to)::timestamptz[], \(days.number)::integer[]) AS u (lo, hi, number),
                       filtered_traffic_days_closed c
                  WHERE hi > c.closed_before) AS s (lo, hi, number)
            JOIN filtered_traffic t ON t.site_id = \(siteID) AND t.filter \(key) AND t.quarter >= s.lo AND t.quarter < s.hi
            UNION ALL
            SELECT s.number, d.day, d.prev_quarter, d.next_quarter, d.session_quarters, d.pageviews, d.singles,
                   d.first_offset_us, d.last_offset_us
            FROM unnest(\(days.from)::timestamptz[], \(days.to)::timestamptz[], \(days.number)::integer[]) AS s (lo, hi, number)
            CROSS JOIN filtered_traffic_days_closed c
            JOIN filtered_traffic_days d ON d.site_id = \(siteID) AND d.filter \(key) AND d.day >= s.lo
                                         AND d.day < least(s.hi, c.closed_before)
            """
    }
}
