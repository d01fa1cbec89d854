import Foundation
import PostgresClient

/// Numbers straight from the events: any range, any filters. The definitions of API.md §5.3 read
/// as SQL, which is also what the rollups are tested against.
struct RawEventStats: StatsSource {
    let siteID: String
    let filters: [StatsFilter]
    let database: any PostgresQuerying

    /// The events of the range that match the filters, as a subquery over parameters $1–$3 and,
    /// for the filters, $\(firstFilterParameter) on.
    private func events(firstFilterParameter: Int) -> String {
        var sql = "SELECT * FROM events WHERE site_id = $1 AND occurred_at >= $2 AND occurred_at < $3"
        for (offset, filter) in filters.enumerated() {
            sql += " AND \(filter.dimension.column) = $\(firstFilterParameter + offset)"
        }
        return sql
    }

    private var filterValues: [any PostgresEncodable] { filters.map(\.value) }

    func totals(_ range: StatsRange) throws -> StatsTotals {
        let row = try database.query("""
            SELECT coalesce(sum(pageviews), 0) AS pageviews, count(*) AS sessions,
                   count(*) FILTER (WHERE pageviews = 1) AS bounces, coalesce(sum(duration), 0) AS duration
            FROM (SELECT count(*) AS pageviews, extract(epoch FROM max(occurred_at) - min(occurred_at)) AS duration
                  FROM (\(events(firstFilterParameter: 4))) AS e GROUP BY session_id) AS s
            """, [siteID, range.from, range.to] + filterValues)[0]
        return StatsTotals(pageviews: try row.decode(Int.self, "pageviews"), sessions: try row.decode(Int.self, "sessions"),
                           bounces: try row.decode(Int.self, "bounces"),
                           durationSeconds: try row.decode(Double.self, "duration"))
    }

    func chart(_ buckets: [ChartBucket], _ range: StatsRange) throws -> [ChartPoint] {
        let rows = try database.query("""
            SELECT b.start, count(e.id) AS pageviews, count(DISTINCT e.session_id) AS visitors
            FROM (\(TopListSQL.bucketBounds)) AS b
            LEFT JOIN (\(events(firstFilterParameter: 5))) AS e ON e.occurred_at >= b.lo AND e.occurred_at < b.hi
            GROUP BY b.start ORDER BY b.start
            """, [siteID, range.from, range.to, buckets.map(\.start)] + filterValues)
        return try Self.points(buckets, from: rows)
    }

    func topLists(_ range: StatsRange, limit: Int) throws -> TopLists {
        let counts = """
            WITH e AS MATERIALIZED (\(events(firstFilterParameter: 5)))
            SELECT v.list, v.value, count(*) AS n
            FROM e
            CROSS JOIN LATERAL (VALUES ('path', e.path), ('referrer', e.referrer_host), ('device', e.device),
                                       ('browser', e.browser), ('os', e.os), ('country', e.country),
                                       ('language', e.language), ('utm_source', e.utm_source),
                                       ('utm_medium', e.utm_medium), ('utm_campaign', e.utm_campaign)) AS v (list, value)
            GROUP BY 1, 2
            UNION ALL
            SELECT 'entry', path, count(*)
            FROM (SELECT DISTINCT ON (session_id) path FROM e ORDER BY session_id, occurred_at, id) AS firsts
            GROUP BY 1, 2
            UNION ALL
            SELECT 'exit', path, count(*)
            FROM (SELECT DISTINCT ON (session_id) path FROM e ORDER BY session_id, occurred_at DESC, id DESC) AS lasts
            GROUP BY 1, 2
            """
        let rows = try database.query(TopListSQL.ranked(counts, limitParameter: "$4"),
                                      [siteID, range.from, range.to, limit] + filterValues)
        return try Self.topLists(from: rows)
    }
}
