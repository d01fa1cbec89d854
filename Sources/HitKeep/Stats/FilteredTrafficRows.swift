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
    /// The ranges are in order and do not overlap (a chart's buckets, `ChartBucket.bounds`): the
    /// stretches of neighbouring ranges are read as one and each row numbered by the last range
    /// starting at or before it, since an index range per bucket costs more than the rows it reads
    /// (30 Asia/Kolkata days, whose buckets are all quarters: 30 index ranges, or one).
    static func of(_ ranges: [StatsRange], siteID: String, key: PostgresQuery) -> PostgresQuery {
        var quarters = Spans()
        var days = Spans()
        for range in ranges {
            let whole = range.wholeDays
            guard whole.from < whole.to else {
                quarters.add(range.from, range.to)
                continue
            }
            quarters.add(range.from, whole.from)
            days.add(whole.from, whole.to)
            quarters.add(whole.to, range.to)
        }
        let starts = ranges.map(\.from)
        // Days not added up yet (the current one, and any before the roll-up process closed them)
        // are read as quarters.
        return """
            SELECT width_bucket(t.quarter, \(starts)::timestamptz[]) AS number, t.quarter, t.prev_quarter, t.next_quarter,
                   t.session_quarters, t.pageviews, t.singles, t.first_offset_us, t.last_offset_us
            FROM (SELECT * FROM unnest(\(quarters.from)::timestamptz[], \(quarters.to)::timestamptz[])
                  UNION ALL
                  SELECT greatest(lo, c.closed_before), hi
                  FROM unnest(\(days.from)::timestamptz[], \(days.to)::timestamptz[]) AS u (lo, hi),
                       filtered_traffic_days_closed c
                  WHERE hi > c.closed_before) AS s (lo, hi)
            JOIN filtered_traffic t ON t.site_id = \(siteID) AND t.filter \(key) AND t.quarter >= s.lo AND t.quarter < s.hi
            UNION ALL
            SELECT width_bucket(d.day, \(starts)::timestamptz[]), d.day, d.prev_quarter, d.next_quarter, d.session_quarters,
                   d.pageviews, d.singles, d.first_offset_us, d.last_offset_us
            FROM unnest(\(days.from)::timestamptz[], \(days.to)::timestamptz[]) AS s (lo, hi)
            CROSS JOIN filtered_traffic_days_closed c
            JOIN filtered_traffic_days d ON d.site_id = \(siteID) AND d.filter \(key) AND d.day >= s.lo
                                         AND d.day < least(s.hi, c.closed_before)
            """
    }

    /// Stretches of time to read, as the parallel arrays the SQL unnests; empty ones are left out
    /// and one that starts where the last ends extends it.
    private struct Spans {
        var from: [Date] = []
        var to: [Date] = []

        mutating func add(_ start: Date, _ end: Date) {
            guard start < end else { return }
            if let last = to.last, last == start {
                to[to.count - 1] = end
            } else {
                from.append(start)
                to.append(end)
            }
        }
    }
}
