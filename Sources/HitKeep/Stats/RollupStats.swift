import Foundation
import PostgresClient

/// Numbers from the rollups (migrations/0004): exact for unfiltered ranges whose ends, and chart
/// buckets, are whole UTC hours. A 30-day query reads a few thousand rollup rows, however many
/// events the site has. `chart` also takes buckets of whole quarter hours, for `FilteredRollupStats`.
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

    /// The chart of a range whose buckets start on whole quarter hours. A bucket's whole hours come
    /// from `traffic_hourly`, one index range each; in a zone of half or three-quarter hours
    /// (Asia/Kolkata: days from 18:30 UTC) the hours split between two buckets come from the
    /// unfiltered quarter rows of migrations/0012, so that 30 days read 720 hour rows and 120
    /// quarters instead of 2 880 quarters (1.8 ms against 3.5–6 at ten million page views a month).
    /// A session is counted in a bucket once: at its first whole hour there that follows no page
    /// view in the bucket (`prev_hour` before the first whole hour: one in the leading quarters lies
    /// in the hour before), at its last leading quarter when it has no page view in the whole hours,
    /// and at its first trailing quarter when it has none before it in the bucket. Buckets of whole
    /// hours read no quarters; others need the quarter rows complete (`FilteredRollupStats.filter`).
    /// Each split hour's quarters are one index range, kept so by the fence (`OFFSET 0`): as a join,
    /// the planner read every unfiltered quarter row of the site once and compared each with every
    /// split hour (110 ms at a million page views a month, against 2).
    func chart(_ buckets: [ChartBucket], _ range: StatsRange) throws -> [ChartPoint] {
        let bounds = ChartBucket.bounds(of: buckets, in: range)
        // A bucket's whole hours; one without any is all leading quarters.
        let wholeHours = bounds.map { $0.whole(unitsOf: 3600) ?? StatsRange(from: $0.to, to: $0.to) }
        var split = NumberedSpans()
        for (index, (bucket, whole)) in zip(bounds, wholeHours).enumerated() {
            split.add(bucket.from, whole.from, index + 1)
            split.add(whole.to, bucket.to, index + 1)
        }
        let rows = try database.query("""
            SELECT b.number, h.pageviews + coalesce(sum(q.pageviews), 0) AS pageviews,
                   h.visitors + coalesce(sum(q.session_quarters) FILTER (
                       WHERE CASE WHEN q.quarter < b.whole_from THEN q.next_quarter >= b.whole_to
                                  ELSE q.prev_quarter < b.lo END), 0) AS visitors
            FROM unnest(\(bounds.map(\.from))::timestamptz[], \(wholeHours.map(\.from))::timestamptz[],
                        \(wholeHours.map(\.to))::timestamptz[]) WITH ORDINALITY AS b (lo, whole_from, whole_to, number)
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(pageviews), 0) AS pageviews,
                       coalesce(sum(session_hours) FILTER (WHERE prev_hour < b.whole_from), 0) AS visitors
                FROM traffic_hourly
                WHERE site_id = \(siteID) AND hour >= b.whole_from AND hour < b.whole_to) AS h
            LEFT JOIN (SELECT s.number, t.quarter, t.prev_quarter, t.next_quarter, t.session_quarters, t.pageviews
                       FROM unnest(\(split.from)::timestamptz[], \(split.to)::timestamptz[], \(split.number)::integer[])
                            AS s (lo, hi, number)
                       CROSS JOIN LATERAL (
                           SELECT t.quarter, t.prev_quarter, t.next_quarter, t.session_quarters, t.pageviews
                           FROM keyed_filtered_traffic t
                           WHERE t.site_key = \(SiteKeySQL.of(siteID)) AND t.filter = 0 AND t.quarter >= s.lo AND t.quarter < s.hi
                           OFFSET 0) AS t) AS q ON q.number = b.number
            GROUP BY b.number, h.pageviews, h.visitors
            ORDER BY b.number
            """)
        return try Self.points(buckets, from: rows)
    }

    func topLists(_ range: StatsRange, limit: Int) throws -> TopLists {
        let counts: PostgresQuery = """
            SELECT list, value, sum(n) AS n FROM (\(RollupCountRows.unfiltered(over: range, siteID: siteID))) AS count_rows
            GROUP BY list, value
            """
        let rows = try database.query(TopListSQL.ranked(counts, limit: limit, siteID: siteID))
        return try Self.topLists(from: rows)
    }
}
