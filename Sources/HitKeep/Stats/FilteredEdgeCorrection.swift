import Foundation
import PostgresClient

/// What the partial quarter hours at the ends of a range (`from=…T10:07:00Z`) change in the numbers
/// that the quarter-hour rollups give for the whole quarters inside it: under one filter, under
/// several on visitor profiles' dimensions (whose rollups, corrected by `MixedSessionCorrection`,
/// count each session once over the whole quarters, as one filter's do), or without a filter, where
/// every page view matches.
///
/// Only sessions with a matching page view in a partial quarter (the edge sessions) count
/// differently over the full range than over its whole quarters: they may add page views, be new
/// sessions, stop or start being bounces, and last longer. So their matching page views in the range
/// are read (`SessionLookup`) and each contributes the difference between what it
/// counts in the full range and what the rollups counted for it in the whole quarters: at most a
/// quarter hour's sessions at each end, where reading the range's matching events took seconds.
enum FilteredEdgeCorrection {
    /// `quarters` is the range's whole quarter hours (`StatsRange.whole(unitsOf:)`), `buckets` the chart's.
    static func read(siteID: String, filters: [StatsFilter], range: StatsRange, quarters: StatsRange,
                     buckets: [ChartBucket], on database: any PostgresQuerying) throws -> StatsCorrection {
        let rows = try database.query("""
            \(edgePageViews(siteID: siteID, filters: filters, range: range, quarters: quarters)), s AS (
                SELECT \(groupSums) FROM e GROUP BY session_id
            ), per_bucket AS (
                SELECT width_bucket(occurred_at, \(buckets.map(\.start))::timestamptz[]) AS bucket,
                       count(*) FILTER (WHERE NOT whole_quarter) AS edge_pageviews, count(*) FILTER (WHERE whole_quarter) AS quarter_pageviews
                FROM e GROUP BY 1, session_id
            )
            SELECT -1 AS bucket, \(differences)
            FROM s
            UNION ALL
            SELECT bucket, sum(edge_pageviews)::bigint, count(*) FILTER (WHERE edge_pageviews > 0 AND quarter_pageviews = 0), 0, 0
            FROM per_bucket GROUP BY bucket
            """)
        var correction = StatsCorrection()
        for row in rows {
            let bucket = try row.decode(Int.self, "bucket")
            let pageviews = try row.decode(Int.self, "pageviews"), visitors = try row.decode(Int.self, "visitors")
            if bucket == -1 {
                correction.totals = StatsTotals(pageviews: pageviews, sessions: visitors, bounces: try row.decode(Int.self, "bounces"),
                                                durationMicroseconds: try row.decode(Int.self, "duration_us"))
            } else {
                // width_bucket numbers the buckets from 1.
                correction.chart[bucket - 1] = (pageviews, visitors)
            }
        }
        return correction
    }

    /// The CTEs `edge_sessions`, the sessions with matching page views outside `quarters`, and `e`,
    /// their matching page views in `range` (`session_id`, `occurred_at`, `whole_quarter` and
    /// `columns`), for a statement to go on from with `, name AS (…)`.
    static func edgePageViews(siteID: String, filters: [StatsFilter], range: StatsRange, quarters: StatsRange,
                              columns: PostgresQuery = "") -> PostgresQuery {
        let matching = StatsFilter.conditions(filters)
        return """
            WITH edge_sessions AS MATERIALIZED (
                SELECT DISTINCT session_id FROM events
                WHERE site_id = \(siteID) AND \(EventTimeCondition.edges(of: range, outside: quarters))\(matching)
            ), e AS MATERIALIZED (
                SELECT e.session_id, occurred_at, occurred_at >= \(quarters.from) AND occurred_at < \(quarters.to) AS whole_quarter\(columns)
                FROM \(SessionLookup.pageViews(of: "edge_sessions"))
                WHERE site_id = \(siteID) AND \(EventTimeCondition.within(range))\(matching)
            )
            """
    }

    /// Per group of `e` (a session, or a session and value): its page views in the range and in the
    /// whole quarters, and the time from its first to its last page view in each.
    static let groupSums: PostgresQuery = """
        count(*) AS pageviews, count(*) FILTER (WHERE whole_quarter) AS quarter_pageviews,
        \(DurationSQL.microseconds("max(occurred_at) - min(occurred_at)")) AS duration_us,
        coalesce(\(DurationSQL.microseconds("max(occurred_at) FILTER (WHERE whole_quarter) - min(occurred_at) FILTER (WHERE whole_quarter)")), 0) AS quarter_duration_us
        """

    /// Over groups of `groupSums`: what they add to the whole quarters' numbers, as
    /// `(pageviews, visitors, bounces, duration_us)`. A group is a visitor of the range that the
    /// quarters did not count when it has no page view there, and a bounce in each where it has one.
    static let differences: PostgresQuery = """
        coalesce(sum(pageviews - quarter_pageviews), 0)::bigint AS pageviews,
        count(*) FILTER (WHERE quarter_pageviews = 0) AS visitors,
        count(*) FILTER (WHERE pageviews = 1) - count(*) FILTER (WHERE quarter_pageviews = 1) AS bounces,
        coalesce(sum(duration_us - quarter_duration_us), 0)::bigint AS duration_us
        """
}
