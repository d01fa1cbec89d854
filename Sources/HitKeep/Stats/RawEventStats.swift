import Foundation
import PostgresClient

/// Numbers straight from the events: any range, any filters. The definitions of docs/API.md §10.3 read
/// as SQL. One statement per period reads the matching events once, walks each session's page views
/// in time order once, and returns every number as rows tagged `total`, `chart` or a list name.
struct RawEventStats: StatsSource {
    let siteID: String
    let filters: [StatsFilter]
    let database: any PostgresQuerying
    /// Whether to find the matching events through the index of values (`StatsFilter.conditions`).
    var throughValueIndex = false

    func period(_ range: StatsRange, buckets: [ChartBucket], limit: Int?) throws -> StatsPeriod {
        // A comparison period (no `limit`) has no lists: its events need no dimension columns.
        let columns: PostgresQuery = limit == nil ? "" : ", \(TopListSQL.dimensionColumns)"
        let conditions = StatsFilter.conditions(filters, valueIndexSite: throughValueIndex ? siteID : nil)
        let bucket: PostgresQuery = "width_bucket(occurred_at, \(buckets.map(\.start))::timestamptz[])"
        let matching: PostgresQuery = """
            SELECT \(bucket) AS bucket, id, occurred_at, session_id\(columns)
            FROM events
            WHERE site_id = \(siteID) AND \(EventTimeCondition.within(range))\(conditions)
            """
        // The session ends' lists take the value of a session's first (last) page view; other rows
        // carry NULL, a group the sums leave out. The event dimensions' lists are grouping sets of
        // the same aggregate, so that the matching page views are read and grouped once.
        var sets: PostgresQuery = "(bucket)"
        var parts: PostgresQuery = "WHEN GROUPING(bucket) = 0 THEN 'chart'"
        var names: [PostgresQuery] = ["bucket::text"]
        var endValues: PostgresQuery = ""
        var endKept: PostgresQuery = ""
        let eventColumns = TopListSQL.eventColumns
        if limit != nil {
            for dimension in StatsDimension.lists where !dimension.isEventColumn {
                let name = PostgresQuery(unescaped: "end_" + dimension.name)
                let end: PostgresQuery = switch dimension.source {
                case .sessionEntry: "previous_bucket IS NULL"
                case .sessionExit, .event: "last"
                }
                endValues.append(", CASE WHEN \(end) THEN \(dimension.columnSQL) END AS \(name)")
                sets.append(", (\(name))")
                parts.append(" WHEN GROUPING(\(name)) = 0 THEN \(dimension.nameLiteral)")
                names.append(name)
                endKept.append(" AND (GROUPING(\(name)) = 1 OR \(name) IS NOT NULL)")
            }
            endValues.append(", \(eventColumns)")
            sets.append(", \(TopListSQL.eventDimensionSets)")
            // GROUPING has a bit per column, set where the row's set leaves the column out: all of
            // them are set only in the sets of the chart, the session ends and the total.
            parts.append(" WHEN GROUPING(\(eventColumns)) < \(1 << StatsDimension.eventLists.count - 1) THEN 'values'")
        }
        var listsPart: PostgresQuery = ""
        if let limit {
            let counts: PostgresQuery = """
                SELECT x.list, x.value, sum(s.pageviews)::bigint AS n
                FROM sums AS s CROSS JOIN LATERAL \(TopListSQL.eventDimensionValues(of: "s"))
                WHERE s.part = 'values' AND x.value IS NOT NULL
                GROUP BY 1, 2
                UNION ALL
                SELECT part, name, pageviews FROM sums WHERE part NOT IN ('total', 'chart', 'values')
                """
            listsPart = """

                UNION ALL
                SELECT list, name, n, rank, 0, 0 FROM (\(TopListSQL.ranked(counts, limit: limit, siteID: siteID))) AS lists
                """
        }
        // One sort of the matching events by session and time gives each session's numbers at its
        // first and last page view (a bounce is both; it has no page view, so no bucket, before
        // it) and each bucket's distinct sessions as the page views that start one in it (a
        // session's buckets follow its time order). A duration is its last page view's offset from
        // the range's start less its first one's. Reading the matching events once (a materialized
        // copy for the lists went to disk, and kept the sort from parallel workers) with two window
        // functions rather than four took a tenth off through the API: 1.6–2.0 s → 1.5–1.8 s for
        // `referrer:(none)&device:desktop` at a million page views (461 000 of them), and 4.3–4.9 s →
        // 3.8–4.6 s for `path:/&device:mobile` at ten million (README, 7 December, night).
        let listColumns: PostgresQuery = limit == nil ? "" : ", \(eventColumns)"
        let offset = DurationSQL.microseconds("occurred_at - \(range.from)::timestamptz")
        let rows = try database.query("""
            WITH walked AS (
                SELECT bucket, lag(bucket) OVER w AS previous_bucket, lead(true) OVER w IS NULL AS last, occurred_at\(columns)
                FROM (\(matching)) AS e WINDOW w AS (PARTITION BY session_id ORDER BY occurred_at, id)
            ),
            sums AS MATERIALIZED (
                SELECT CASE \(parts) ELSE 'total' END AS part,
                       coalesce(\(PostgresQuery.joined(names, separator: ", ")), '') AS name, count(*) AS pageviews,
                       count(*) FILTER (WHERE previous_bucket IS DISTINCT FROM bucket) AS bucket_visitors,
                       count(*) FILTER (WHERE last) AS sessions,
                       count(*) FILTER (WHERE last AND previous_bucket IS NULL) AS bounces,
                       coalesce(sum(\(offset)) FILTER (WHERE last), 0)
                           - coalesce(sum(\(offset)) FILTER (WHERE previous_bucket IS NULL), 0) AS duration_us\(listColumns)
                FROM (SELECT bucket, previous_bucket, last, occurred_at\(endValues) FROM walked) AS walked
                GROUP BY GROUPING SETS (\(sets), ())
                HAVING true\(endKept)
            )
            SELECT part, name, pageviews::numeric AS a, sessions::numeric AS b, bounces::numeric AS c,
                   duration_us::numeric AS d
            FROM sums WHERE part = 'total'
            UNION ALL
            SELECT part, name, pageviews, bucket_visitors, 0, 0 FROM sums WHERE part = 'chart'\(listsPart)
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
                ranked[part, default: []].append((try Self.integer(row, "b"),
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
