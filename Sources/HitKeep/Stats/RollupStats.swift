import Foundation
import PostgresClient

/// Numbers from the rollups (migrations/0004): exact for unfiltered ranges whose ends, and chart
/// buckets, are whole UTC hours. A 30-day query reads a few thousand rollup rows, however many
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

    func chart(_ buckets: [ChartBucket], _ range: StatsRange) throws -> [ChartPoint] {
        let rows = try database.query("""
            SELECT b.start, coalesce(sum(t.pageviews), 0) AS pageviews,
                   coalesce(sum(t.session_hours) FILTER (WHERE t.prev_hour < b.lo), 0) AS visitors
            FROM (\(TopListSQL.bucketBounds(buckets, range))) AS b
            LEFT JOIN traffic_hourly t ON t.site_id = \(siteID) AND t.hour >= b.lo AND t.hour < b.hi
            GROUP BY b.start ORDER BY b.start
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
