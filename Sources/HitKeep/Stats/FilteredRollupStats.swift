import Foundation
import PostgresClient

/// Numbers under one filter from the filtered rollups (migrations/0012): exact for ranges whose
/// ends, and chart buckets, are whole UTC hours, as `RollupStats` is without a filter. A 30-day
/// question reads the filter value's few thousand rollup rows, however many events match.
struct FilteredRollupStats: StatsSource {
    let siteID: String
    let filter: StatsFilter
    let database: any PostgresQuerying

    static func canAnswer(_ range: StatsRange, buckets: [ChartBucket], filters: [StatsFilter]) -> Bool {
        filters.count == 1 && range.isWholeHours && buckets.allSatisfy { StatsRange.isWholeHour($0.start) }
    }

    /// Whether the rollups hold every event: not while `hitkeep migrate` is still adding the events
    /// an installation had before 0012 (`filtered_rollups_backfill`).
    static func isComplete(on database: any PostgresQuerying) throws -> Bool {
        try database.query("SELECT NOT EXISTS (SELECT 1 FROM filtered_rollups_backfill) AS complete")[0]
            .decode(Bool.self, "complete")
    }

    func period(_ range: StatsRange, buckets: [ChartBucket], limit: Int?) throws -> StatsPeriod {
        // A value no event ever had has no number: nothing matches it.
        guard let key = try filterKey() else {
            return StatsPeriod(totals: StatsTotals(), chart: buckets.map { ChartPoint(bucket: $0, pageviews: 0, visitors: 0) },
                               topLists: [:])
        }
        let totals = try self.totals(range, key: key)
        return StatsPeriod(totals: totals, chart: try chart(buckets, range, key: key),
                           topLists: try limit.map { try topLists(range, key: key, totals: totals, limit: $0) } ?? [:])
    }

    /// The filter value's number in `stat_values`, looked up through its MD5 (the unique index).
    private func filterKey() throws -> Int? {
        let rows = try database.query("""
            SELECT id FROM stat_values
            WHERE dimension = \(filter.dimension.name) AND value_md5 = decode(md5(\(filter.value)), 'hex') AND value = \(filter.value)
            """)
        return try rows.first?.decode(Int.self, "id")
    }

    private func totals(_ range: StatsRange, key: Int) throws -> StatsTotals {
        // As RollupStats.totals, over the filter value's session-hours.
        let row = try database.query("""
            SELECT coalesce(sum(pageviews), 0) AS pageviews,
                   coalesce(sum(session_hours) FILTER (WHERE prev_hour < \(range.from)), 0) AS sessions,
                   coalesce(sum(singles) FILTER (WHERE prev_hour < \(range.from) AND next_hour >= \(range.to)), 0) AS bounces,
                   coalesce(sum(last_offset_us + extract(epoch FROM hour) * 1000000 * session_hours)
                            FILTER (WHERE next_hour >= \(range.to)), 0)
                 - coalesce(sum(first_offset_us + extract(epoch FROM hour) * 1000000 * session_hours)
                            FILTER (WHERE prev_hour < \(range.from)), 0) AS duration_us
            FROM filtered_traffic
            WHERE site_id = \(siteID) AND filter = \(key) AND hour >= \(range.from) AND hour < \(range.to)
            """)[0]
        return StatsTotals(pageviews: try row.decode(Int.self, "pageviews"), sessions: try row.decode(Int.self, "sessions"),
                           bounces: try row.decode(Int.self, "bounces"),
                           durationMicroseconds: Int(try row.decode(Double.self, "duration_us")))
    }

    private func chart(_ buckets: [ChartBucket], _ range: StatsRange, key: Int) throws -> [ChartPoint] {
        let rows = try database.query("""
            SELECT b.start, coalesce(sum(t.pageviews), 0) AS pageviews,
                   coalesce(sum(t.session_hours) FILTER (WHERE t.prev_hour < b.lo), 0) AS visitors
            FROM (\(TopListSQL.bucketBounds(buckets, range))) AS b
            LEFT JOIN filtered_traffic t ON t.site_id = \(siteID) AND t.filter = \(key) AND t.hour >= b.lo AND t.hour < b.hi
            GROUP BY b.start ORDER BY b.start
            """)
        return try Self.points(buckets, from: rows)
    }

    private func topLists(_ range: StatsRange, key: Int, totals: StatsTotals, limit: Int) throws -> TopLists {
        let days = range.wholeDays
        let spans: PostgresQuery = """
            site_id = \(siteID) AND filter = \(key)
            AND ((span = 'day' AND bucket >= \(days.from) AND bucket < \(days.to))
                 OR (span = 'hour' AND ((bucket >= \(range.from) AND bucket < \(days.from)) OR (bucket >= \(days.to) AND bucket < \(range.to)))))
            """
        // Other dimensions' values under the filter, by their numbers; the filter's own list holds
        // its value alone. Sessions under a path filter enter and leave on that path; under any
        // other filter the session ends are counted as 0004 counts them without one.
        var counts: PostgresQuery = """
            SELECT v.dimension AS list, v.value, c.n
            FROM (SELECT u.id, sum(u.n) AS n
                  FROM filtered_counts, unnest(value_ids, pageviews) AS u (id, n)
                  WHERE \(spans)
                  GROUP BY u.id) AS c
            JOIN stat_values v ON v.id = c.id
            UNION ALL
            SELECT \(filter.dimension.name), \(filter.value), \(totals.pageviews)::bigint
            """
        let sessionEnds = StatsDimension.lists.filter {
            if case .event = $0.source { return false }
            return true
        }
        if filter.dimension.column == "path" {
            for dimension in sessionEnds {
                counts.append("\nUNION ALL\nSELECT \(dimension.name), \(filter.value), \(totals.sessions)::bigint")
            }
        } else {
            counts.append("""

                UNION ALL
                SELECT c.kind, v.value, c.n
                FROM (SELECT kind, u.id, sum(u.n) AS n
                      FROM filtered_session_ends, unnest(path_ids, sessions) AS u (id, n)
                      WHERE \(spans) AND \(TopListSQL.sessionEnds(in: range))
                      GROUP BY kind, u.id) AS c
                JOIN stat_values v ON v.id = c.id
                """)
        }
        let rows = try database.query(TopListSQL.ranked(counts, limit: limit))
        return try Self.topLists(from: rows)
    }
}
