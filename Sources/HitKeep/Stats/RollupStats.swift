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
                   coalesce(sum(session_hours) FILTER (WHERE prev_hour < $2), 0) AS sessions,
                   coalesce(sum(singles) FILTER (WHERE prev_hour < $2 AND next_hour >= $3), 0) AS bounces,
                   coalesce(sum(last_offset_us + extract(epoch FROM hour) * 1000000 * session_hours)
                            FILTER (WHERE next_hour >= $3), 0)
                 - coalesce(sum(first_offset_us + extract(epoch FROM hour) * 1000000 * session_hours)
                            FILTER (WHERE prev_hour < $2), 0) AS duration_us
            FROM traffic_hourly
            WHERE site_id = $1 AND hour >= $2 AND hour < $3
            """, [siteID, range.from, range.to])[0]
        return StatsTotals(pageviews: try row.decode(Int.self, "pageviews"), sessions: try row.decode(Int.self, "sessions"),
                           bounces: try row.decode(Int.self, "bounces"),
                           durationMicroseconds: Int(try row.decode(Double.self, "duration_us")))
    }

    func chart(_ buckets: [ChartBucket], _ range: StatsRange) throws -> [ChartPoint] {
        let rows = try database.query("""
            SELECT b.start, coalesce(sum(t.pageviews), 0) AS pageviews,
                   coalesce(sum(t.session_hours) FILTER (WHERE t.prev_hour < b.lo), 0) AS visitors
            FROM (\(TopListSQL.bucketBounds)) AS b
            LEFT JOIN traffic_hourly t ON t.site_id = $1 AND t.hour >= b.lo AND t.hour < b.hi
            GROUP BY b.start ORDER BY b.start
            """, [siteID, range.from, range.to, buckets.map(\.start)])
        return try Self.points(buckets, from: rows)
    }

    func topLists(_ range: StatsRange, limit: Int) throws -> TopLists {
        // Whole UTC days from the day rows, the hours before and after them from the hour rows.
        let days = range.wholeDays
        let spans = """
            site_id = $1 AND ((span = 'day' AND bucket >= $4 AND bucket < $5)
                              OR (span = 'hour' AND ((bucket >= $2 AND bucket < $4) OR (bucket >= $5 AND bucket < $3))))
            """
        let counts = """
            SELECT dimension AS list, value, sum(pageviews) AS n FROM dimension_counts WHERE \(spans) GROUP BY 1, 2
            UNION ALL
            SELECT kind, path, sum(sessions) FROM entry_exit_counts
            WHERE \(spans) AND ((kind = 'entry' AND boundary < $2) OR (kind = 'exit' AND boundary >= $3))
            GROUP BY 1, 2
            """
        let rows = try database.query(TopListSQL.ranked(counts, limitParameter: "$6"),
                                      [siteID, range.from, range.to, days.from, days.to, limit])
        return try Self.topLists(from: rows)
    }
}
