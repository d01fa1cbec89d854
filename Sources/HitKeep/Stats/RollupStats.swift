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
        // The buckets' stretches follow each other from `from` to `to` (`ChartBucket.bounds`), so one
        // read of the range's hours, each numbered by the last stretch starting at or before it,
        // sorts them into buckets: a read per bucket cost 3.0 ms for 30 days, this one 1.1 ms.
        let starts = ChartBucket.bounds(of: buckets, in: range).map(\.from)
        let rows = try database.query("""
            SELECT b.number, coalesce(sum(t.pageviews), 0) AS pageviews,
                   coalesce(sum(t.session_hours) FILTER (WHERE t.prev_hour < b.lo), 0) AS visitors
            FROM unnest(\(starts)::timestamptz[]) WITH ORDINALITY AS b (lo, number)
            LEFT JOIN (SELECT width_bucket(hour, \(starts)::timestamptz[]) AS number, pageviews, session_hours, prev_hour
                       FROM traffic_hourly
                       WHERE site_id = \(siteID) AND hour >= \(range.from) AND hour < \(range.to)) AS t ON t.number = b.number
            GROUP BY b.number, b.lo ORDER BY b.number
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
