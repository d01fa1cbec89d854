import Foundation
import PostgresClient

/// The rollup rows that count the session-quarters of one filter (or set of profiles) in ranges of
/// whole quarter hours: the whole UTC days inside a range from `keyed_filtered_traffic_days`
/// (migrations/0025, 0052) once the roll-up process has closed them, the quarter hours at its ends
/// and of the days not closed yet from `keyed_filtered_traffic` (0012, 0052). A day row reads
/// as its quarters' rows added up would for a range holding the whole day, so the same sums
/// (`RollupUnit.quarter`) apply to both; a 30-day range reads 30 rows per profile instead of 2 880.
enum FilteredTrafficRows {
    /// SQL of the rows of each range, numbered from 1 in `number`, with `keyed_filtered_traffic`'s columns
    /// (`quarter` is a day row's day) and `sign`, 1 for a row to add. `key` follows the `filter`
    /// column (`= 7`, `= ANY (…)`, `= v.id`).
    ///
    /// `cuttingDays`: a range that ends more than 12 hours into a closed UTC day that it holds from
    /// its start (a chart's day in a zone ahead of UTC: Berlin's from 23:00 to 23:00) reads that
    /// day's rows and, with `sign` -1, the quarters after its end, instead of the quarters before
    /// it. Only for sums of page views and of first session-quarters (`prev_quarter < from`): a
    /// session whose first quarter of the day lies after the range's end has none in the range
    /// that day, so the day's rows count it just where those quarters do. Sums over a visit's last
    /// quarter, bounces and durations, would not come out right, so they read the quarters.
    static func of(_ ranges: [StatsRange], siteID: String, key: PostgresQuery, cuttingDays: Bool = false) -> PostgresQuery {
        var quarters = NumberedSpans()
        var days = NumberedSpans()
        var cutDays = NumberedSpans(), cuts: [Date] = []
        for (index, var range) in ranges.enumerated() {
            let number = index + 1
            if cuttingDays {
                let day = Date(timeIntervalSince1970: (range.to.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
                if day >= range.from, range.to.timeIntervalSince(day) > 12 * 3600 {
                    cutDays.add(day, day.addingTimeInterval(86_400), number)
                    cuts.append(range.to)
                    range = StatsRange(from: range.from, to: day)
                }
            }
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
        var statement: PostgresQuery = """
            SELECT s.number, t.quarter, t.prev_quarter, t.next_quarter, t.session_quarters, t.pageviews, t.singles,
                   t.first_offset_us, t.last_offset_us, 1 AS sign
            FROM (SELECT * FROM unnest(\(quarters.from)::timestamptz[], \(quarters.to)::timestamptz[], \(quarters.number)::integer[])
                  UNION ALL
                  SELECT greatest(lo, c.closed_before), hi, number
                  FROM unnest(\(days.from)::timestamptz[], \(days.to)::timestamptz[], \(days.number)::integer[]) AS u (lo, hi, number),
                       filtered_traffic_days_closed c
                  WHERE hi > c.closed_before) AS s (lo, hi, number)
            \(quarterRows("s.lo", "s.hi", siteID: siteID, key: key))
            UNION ALL
            SELECT s.number, d.day, d.prev_quarter, d.next_quarter, d.session_quarters, d.pageviews, d.singles,
                   d.first_offset_us, d.last_offset_us, 1
            FROM unnest(\(days.from)::timestamptz[], \(days.to)::timestamptz[], \(days.number)::integer[]) AS s (lo, hi, number)
            CROSS JOIN filtered_traffic_days_closed c
            CROSS JOIN LATERAL (SELECT * FROM keyed_filtered_traffic_days d
                                WHERE d.site_key = \(SiteKeySQL.of(siteID)) AND d.filter \(key) AND d.day >= s.lo
                                  AND d.day < least(s.hi, c.closed_before)
                                OFFSET 0) AS d
            """
        guard !cuts.isEmpty else { return statement }
        // A cut day not closed yet is read as its quarters up to the cut. Each case has its own
        // branch with plain bounds (one with `CASE` bounds for both cases left the planner unable to
        // tell how many quarters it reads).
        let cutSpans: PostgresQuery = """
            unnest(\(cutDays.from)::timestamptz[], \(cuts)::timestamptz[], \(cutDays.to)::timestamptz[], \(cutDays.number)::integer[])
                AS s (lo, cut, hi, number)
            CROSS JOIN filtered_traffic_days_closed c
            """
        // A cut day's quarters in [lo, hi) (columns of `s`) with `sign`, for the days `state` picks.
        func cutQuarters(_ lo: PostgresQuery, _ hi: PostgresQuery, sign: PostgresQuery, where state: PostgresQuery) -> PostgresQuery {
            """

            UNION ALL
            SELECT s.number, t.quarter, t.prev_quarter, t.next_quarter, t.session_quarters, t.pageviews, t.singles,
                   t.first_offset_us, t.last_offset_us, \(sign)
            FROM \(cutSpans)
            \(quarterRows(lo, hi, when: state, siteID: siteID, key: key))
            """
        }
        statement.append("""

            UNION ALL
            SELECT s.number, d.day, d.prev_quarter, d.next_quarter, d.session_quarters, d.pageviews, d.singles,
                   d.first_offset_us, d.last_offset_us, 1
            FROM \(cutSpans)
            JOIN keyed_filtered_traffic_days d ON d.site_key = \(SiteKeySQL.of(siteID)) AND d.filter \(key) AND d.day = s.lo AND s.hi <= c.closed_before
            """)
        // A closed day less its quarters after the cut; an open one, its quarters up to the cut.
        statement.append(cutQuarters("s.cut", "s.hi", sign: "-1", where: "s.hi <= c.closed_before"))
        statement.append(cutQuarters("s.lo", "s.cut", sign: "1", where: "s.hi > c.closed_before"))
        return statement
    }

    /// `keyed_filtered_traffic`'s rows in [lo, hi) (columns of the spans before it) for each span, or for
    /// those `condition` picks. A lateral subquery that `OFFSET 0` keeps from being merged into the
    /// join, so that each span descends the index by itself: joined plainly, the planner at times
    /// read every quarter of every profile once and matched each to the spans (a chart by Berlin
    /// days under `country:DE&device:desktop` at ten million page views a month: 390 ms). The
    /// closed days are read the same way: joined plainly, a chart's 29 days under the 60 profiles
    /// of `device:desktop&os:Windows` compared each span with every day row of every profile.
    private static func quarterRows(_ lo: PostgresQuery, _ hi: PostgresQuery, when condition: PostgresQuery = "true",
                                    siteID: String, key: PostgresQuery) -> PostgresQuery {
        """
        CROSS JOIN LATERAL (SELECT * FROM keyed_filtered_traffic t
                            WHERE \(condition) AND t.site_key = \(SiteKeySQL.of(siteID)) AND t.filter \(key) AND t.quarter >= \(lo) AND t.quarter < \(hi)
                            OFFSET 0) AS t
        """
    }
}
