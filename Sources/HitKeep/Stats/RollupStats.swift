import Foundation
import PostgresClient

/// Numbers from the rollups (migrations/0004): exact for unfiltered ranges whose ends, and chart
/// buckets, are whole UTC hours (and charts of buckets of whole quarter hours, `chart`). A 30-day query reads a few thousand rollup rows, however many
/// events the site has.
struct RollupStats: StatsSource {
    let siteID: String
    let database: any PostgresQuerying

    /// Whether the rollups can answer this query exactly.
    static func canAnswer(_ range: StatsRange, buckets: [ChartBucket], filters: [StatsFilter]) -> Bool {
        filters.isEmpty && range.isWholeHours && buckets.allSatisfy { StatsRange.isWholeHour($0.start) }
    }

    func period(_ range: StatsRange, buckets: [ChartBucket], limit: Int?) throws -> StatsPeriod {
        StatsPeriod(totals: try totals(range), chart: try chart(buckets, range),
                    topLists: try limit.map { try topLists(range, limit: $0) } ?? [:])
    }

    func totals(_ range: StatsRange) throws -> StatsTotals {
        // A session is counted at its first session-hour in the range (prev_hour < from) and ends at
        // its last (next_hour >= to); see the comments of migrations/0004_events.sql.
        let row = try database.query("""
            SELECT coalesce(sum(pageviews), 0) AS pageviews,
                   coalesce(sum(session_hours) FILTER (WHERE prev_hour < \(range.from)), 0) AS sessions,
                   coalesce(sum(singles) FILTER (WHERE prev_hour < \(range.from) AND next_hour >= \(range.to)), 0) AS bounces,
                   \(RollupUnit.hour.durationMicroseconds(in: range)) AS duration_us
            FROM traffic_hourly
            WHERE site_id = \(siteID) AND hour >= \(range.from) AND hour < \(range.to)
            """)[0]
        return StatsTotals(pageviews: try row.decode(Int.self, "pageviews"), sessions: try row.decode(Int.self, "sessions"),
                           bounces: try row.decode(Int.self, "bounces"),
                           durationMicroseconds: Int(try row.decode(Double.self, "duration_us")))
    }

    /// The chart of a range of whole hours, whose buckets start on whole quarter hours. A bucket's
    /// whole hours come from `traffic_hourly`; in a zone of half or three-quarter hours (Asia/Kolkata:
    /// days from 18:30 UTC) the hours split between two buckets come from the unfiltered quarter
    /// rows of migrations/0012, so that 30 days read 720 hour rows and 120 quarters instead of 2 880
    /// quarters (8 ms at ten million page views a month, against 1 ms for a whole-hour zone).
    func chart(_ buckets: [ChartBucket], _ range: StatsRange) throws -> [ChartPoint] {
        let bounds = ChartBucket.bounds(of: buckets, in: range)
        // A bucket's whole hours; one without any is all leading quarters.
        let wholeHours = bounds.map { $0.whole(unitsOf: 3600) ?? StatsRange(from: $0.to, to: $0.to) }
        var split = (from: [Date](), to: [Date]())
        for (bucket, whole) in zip(bounds, wholeHours) {
            for (start, end) in [(bucket.from, whole.from), (whole.to, bucket.to)] where start < end {
                split.from.append(start)
                split.to.append(end)
            }
        }
        // Each row is numbered by the last bucket starting at or before it (`ChartBucket.bounds`:
        // the buckets follow each other), one read for the range instead of one per bucket (3.0 ms
        // for 30 days, against 1.1). A session is counted in a bucket once: at its first whole hour
        // there that follows no page view in the bucket (prev_hour < the first whole hour: one in
        // the leading quarters is in the hour before), at its last leading quarter when it has no page
        // view in the whole hours, and at its first trailing quarter when it has none before it in
        // the bucket. The hours split between buckets are numbered with the earlier one and left out
        // as hours.
        let starts = bounds.map(\.from)
        let rows = try database.query("""
            SELECT b.number,
                   coalesce(sum(t.pageviews) FILTER (WHERE t.is_quarter OR (t.at >= b.whole_from AND t.at < b.whole_to)), 0) AS pageviews,
                   coalesce(sum(t.sessions) FILTER (
                       WHERE CASE WHEN NOT t.is_quarter THEN t.at >= b.whole_from AND t.at < b.whole_to AND t.prev < b.whole_from
                                  WHEN t.at < b.whole_from THEN t.next >= b.whole_to
                                  ELSE t.prev < b.lo END), 0) AS visitors
            FROM unnest(\(starts)::timestamptz[], \(wholeHours.map(\.from))::timestamptz[], \(wholeHours.map(\.to))::timestamptz[])
                 WITH ORDINALITY AS b (lo, whole_from, whole_to, number)
            LEFT JOIN (SELECT width_bucket(hour, \(starts)::timestamptz[]) AS number, false AS is_quarter, hour AS at,
                              pageviews, session_hours AS sessions, prev_hour AS prev, next_hour AS next
                       FROM traffic_hourly
                       WHERE site_id = \(siteID) AND hour >= \(range.from) AND hour < \(range.to)
                       UNION ALL
                       SELECT width_bucket(t.quarter, \(starts)::timestamptz[]), true, t.quarter,
                              t.pageviews, t.session_quarters, t.prev_quarter, t.next_quarter
                       FROM unnest(\(split.from)::timestamptz[], \(split.to)::timestamptz[]) AS s (lo, hi)
                       JOIN filtered_traffic t ON t.site_id = \(siteID) AND t.filter = 0
                                              AND t.quarter >= s.lo AND t.quarter < s.hi) AS t ON t.number = b.number
            GROUP BY b.number ORDER BY b.number
            """)
        return try Self.points(buckets, from: rows)
    }

    func topLists(_ range: StatsRange, limit: Int) throws -> TopLists {
        // Whole UTC days from the day rows, the hours before and after them from the hour rows.
        let days = range.wholeDays
        let spans: PostgresQuery = """
            site_id = \(siteID) AND ((span = 'day' AND bucket >= \(days.from) AND bucket < \(days.to))
                OR (span = 'hour' AND ((bucket >= \(range.from) AND bucket < \(days.from)) OR (bucket >= \(days.to) AND bucket < \(range.to)))))
            """
        let counts: PostgresQuery = """
            SELECT dimension AS list, value, sum(pageviews) AS n FROM dimension_counts WHERE \(spans) GROUP BY 1, 2
            UNION ALL
            SELECT kind, path, sum(sessions) FROM entry_exit_counts
            WHERE \(spans) AND \(TopListSQL.sessionEnds(in: range))
            GROUP BY 1, 2
            """
        let rows = try database.query(TopListSQL.ranked(counts, limit: limit, siteID: siteID))
        return try Self.topLists(from: rows)
    }
}
