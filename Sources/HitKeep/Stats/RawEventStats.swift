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
        let matching: PostgresQuery = """
            SELECT id, occurred_at, session_id\(columns)
            FROM events
            WHERE site_id = \(siteID) AND \(EventTimeCondition.within(range))\(conditions)
            """
        let bucket: PostgresQuery = "width_bucket(occurred_at, \(buckets.map(\.start))::timestamptz[])"
        // The session ends' lists take the value of a session's first (last) page view, read off
        // its last one; other rows carry NULL, a group the sums leave out.
        let ends = limit == nil ? [] : StatsDimension.lists.filter { $0.sessionEndOrder != nil }
        let alias = { (dimension: StatsDimension) in PostgresQuery(unescaped: "end_" + dimension.name) }
        var endColumns: PostgresQuery = ""
        var endValues: PostgresQuery = ""
        var endSets: PostgresQuery = ""
        var endParts: PostgresQuery = ""
        var endKept: PostgresQuery = ""
        for dimension in ends {
            let name = alias(dimension)
            let value: PostgresQuery = switch dimension.source {
            case .sessionEntry: "first_value(\(dimension.columnSQL)) OVER w"
            case .sessionExit, .event: dimension.columnSQL
            }
            endColumns.append(", \(value) AS \(name)")
            endValues.append(", CASE WHEN last THEN \(name) END AS \(name)")
            endSets.append(", (\(name))")
            endParts.append(" WHEN GROUPING(\(name)) = 0 THEN \(dimension.nameLiteral)")
            endKept.append(" AND (GROUPING(\(name)) = 1 OR \(name) IS NOT NULL)")
        }
        let names = PostgresQuery.joined(["bucket::text"] + ends.map(alias), separator: ", ")
        var listsPart: PostgresQuery = ""
        if let limit {
            var counts: PostgresQuery = TopListSQL.eventDimensions(from: "e", where: "true")
            counts.append("\nUNION ALL\nSELECT part, name, pageviews FROM sums WHERE part NOT IN ('total', 'chart')")
            listsPart = """

                UNION ALL
                SELECT list, name, n, rank, 0, 0 FROM (\(TopListSQL.ranked(counts, limit: limit, siteID: siteID))) AS lists
                """
        }
        // One sort of the matching events by session and time gives each session's numbers at its
        // last page view (a bounce's last is also its first, with no page view, so no bucket,
        // before it) and each bucket's distinct sessions as the page views that start one in it (a
        // session's buckets follow its time order). Grouping by session and again by bucket and
        // session, and sorting the events apart for the entry and for the exit pages, took 1.6 s of
        // 2.9 at a million page views (`referrer:(none)&device:desktop`, 461 000 of them).
        let rows = try database.query("""
            WITH e AS MATERIALIZED (\(matching)),
            walked AS (
                SELECT \(bucket) AS bucket, lag(\(bucket)) OVER w AS previous_bucket,
                       lead(true) OVER w IS NULL AS last, occurred_at - first_value(occurred_at) OVER w AS span\(endColumns)
                FROM e WINDOW w AS (PARTITION BY session_id ORDER BY occurred_at, id)
            ),
            sums AS MATERIALIZED (
                SELECT CASE WHEN GROUPING(bucket) = 0 THEN 'chart'\(endParts) ELSE 'total' END AS part,
                       coalesce(\(names), '') AS name, count(*) AS pageviews,
                       count(*) FILTER (WHERE previous_bucket IS DISTINCT FROM bucket) AS bucket_visitors,
                       count(*) FILTER (WHERE last) AS sessions,
                       count(*) FILTER (WHERE last AND previous_bucket IS NULL) AS bounces,
                       coalesce(sum(\(DurationSQL.microseconds("span"))) FILTER (WHERE last), 0) AS duration_us
                FROM (SELECT bucket, previous_bucket, last, span\(endValues) FROM walked) AS walked
                GROUP BY GROUPING SETS ((bucket)\(endSets), ())
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
