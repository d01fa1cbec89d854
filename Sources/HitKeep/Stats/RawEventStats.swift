import Foundation
import PostgresClient

/// Numbers straight from the events: any range, any filters. The definitions of docs/API.md §10.3 read
/// as SQL. One statement per period reads the matching events once, groups them by session once,
/// and returns every number as rows tagged `total`, `chart` or a list name.
struct RawEventStats: StatsSource {
    let siteID: String
    let filters: [StatsFilter]
    let database: any PostgresQuerying
    /// Whether to find the matching events through the index of values (`StatsFilter.conditions`).
    var throughValueIndex = false

    func period(_ range: StatsRange, buckets: [ChartBucket], limit: Int?) throws -> StatsPeriod {
        // A comparison period (no `limit`) has no lists: its events need no dimension columns, and
        // its sessions no entry and exit pages, which sort every event.
        let columns: PostgresQuery = limit == nil ? "" : ", \(TopListSQL.dimensionColumns)"
        let conditions = StatsFilter.conditions(filters, valueIndexSite: throughValueIndex ? siteID : nil)
        let matching: PostgresQuery = """
            SELECT id, occurred_at, session_id\(columns)
            FROM events
            WHERE site_id = \(siteID) AND \(EventTimeCondition.within(range))\(conditions)
            """
        // The lists' counts; a session-end dimension (entry and exit page) counts each session's
        // first (last) matching page view, picked by one sort of the events rather than by an
        // ordered aggregate per session, which sorts each session's few page views on its own (two
        // selective filters at ten million page views a month: 330 ms, now 275).
        var listsPart: PostgresQuery = ""
        if let limit {
            var counts: PostgresQuery = TopListSQL.eventDimensions(from: "e", where: "true")
            for dimension in StatsDimension.lists {
                guard let order = dimension.sessionEndOrder else { continue }
                // Under a filter on its column, every session enters (leaves) on the filter's value:
                // no sort of the events (4.7 s of 12 for `path:/&device:mobile` at ten million page views).
                if let filter = filters.first(where: { $0.dimension.column == dimension.column }) {
                    counts.append("\nUNION ALL\nSELECT \(dimension.nameLiteral), \(filter.value)::text, count(*) FROM s")
                    continue
                }
                counts.append("""

                    UNION ALL
                    SELECT \(dimension.nameLiteral), value, count(*)
                    FROM (SELECT DISTINCT ON (session_id) \(dimension.columnSQL) AS value FROM e ORDER BY session_id, \(order)) AS ends
                    GROUP BY 2
                    """)
            }
            listsPart = """

                UNION ALL
                SELECT list, name, n, rank, 0, 0 FROM (\(TopListSQL.ranked(counts, limit: limit, siteID: siteID))) AS lists
                """
        }
        let rows = try database.query("""
            WITH e AS MATERIALIZED (\(matching)),
            s AS MATERIALIZED (
                SELECT count(*) AS pageviews,
                       \(DurationSQL.microseconds("max(occurred_at) - min(occurred_at)")) AS duration_us
                FROM e GROUP BY session_id
            ),
            per_bucket AS (
                SELECT width_bucket(occurred_at, \(buckets.map(\.start))::timestamptz[]) AS bucket, session_id, count(*) AS n
                FROM e GROUP BY 1, 2
            )
            SELECT 'total' AS part, '' AS name, coalesce(sum(pageviews), 0)::numeric AS a, count(*)::numeric AS b,
                   count(*) FILTER (WHERE pageviews = 1)::numeric AS c, coalesce(sum(duration_us), 0) AS d
            FROM s
            UNION ALL
            SELECT 'chart', bucket::text, sum(n), count(*), 0, 0 FROM per_bucket GROUP BY bucket\(listsPart)
            """)

        var totals = StatsTotals()
        var perBucket: [Int: (pageviews: Int, visitors: Int)] = [:]
        var ranked: [String: [(rank: Int, value: RankedValue)]] = [:]
        for row in rows {
            let part = try row.decode(String.self, "part")
            switch part {
            case "total":
                totals = StatsTotals(pageviews: try Self.integer(row, "a"), sessions: try Self.integer(row, "b"),
                                     bounces: try Self.integer(row, "c"), durationMicroseconds: try Self.integer(row, "d"))
            case "chart":
                perBucket[try row.decode(Int.self, "name")] = (try Self.integer(row, "a"), try Self.integer(row, "b"))
            default:
                ranked[part, default: []].append((try Self.integer(row, "c"),
                                                  RankedValue(name: try row.decode(String.self, "name"),
                                                              value: try Self.integer(row, "a"))))
            }
        }
        // width_bucket numbers the buckets from 1.
        let chart = buckets.enumerated().map { index, bucket in
            let numbers = perBucket[index + 1] ?? (0, 0)
            return ChartPoint(bucket: bucket, pageviews: numbers.pageviews, visitors: numbers.visitors)
        }
        let lists = ranked.mapValues { entries in entries.sorted { $0.rank < $1.rank }.map(\.value) }
        return StatsPeriod(totals: totals, chart: chart, topLists: lists)
    }

    /// A count that travels as numeric (`12`, `12.0`) in the shared columns.
    private static func integer(_ row: PostgresRow, _ column: String) throws -> Int {
        let value = try row.decode(Double.self, column)
        return Int(value.rounded())
    }
}
