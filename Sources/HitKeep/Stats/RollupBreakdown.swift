import Foundation
import PostgresClient

/// Breakdown rows from the quarter-hour rollups (migrations/0012) when no filter narrows the page
/// views: a value v of a dimension counted per page view is the filter `dimension:v`, whose sums
/// `filtered_traffic` keeps, so each row is one filter value's totals over the range, as
/// `FilteredRollupStats` computes them. Exact for ranges whose ends are whole quarter hours.
/// Filters and the session-end dimensions (landing, exit) are counted from the raw events.
struct RollupBreakdown: BreakdownSource {
    let database: any PostgresQuerying

    static func canAnswer(_ question: BreakdownQuestion, database: any PostgresQuerying) throws -> Bool {
        guard question.filters.isEmpty, question.dimension.isEventColumn,
              FilteredRollupStats.isWholeQuarter(question.range.from), FilteredRollupStats.isWholeQuarter(question.range.to)
        else { return false }
        return try FilteredRollupStats.isComplete(on: database)
    }

    func rows(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?) throws -> [BreakdownRow] {
        let range = question.range
        // Per value: its page views, and its sessions, bounces and durations as `FilteredRollupStats`
        // counts them under the filter `dimension:value`.
        let sums: PostgresQuery = """
            SELECT v.value, sum(t.pageviews)::bigint AS pageviews,
                   coalesce(sum(t.session_quarters) FILTER (WHERE t.prev_quarter < \(range.from)), 0)::bigint AS visitors,
                   coalesce(sum(t.singles) FILTER (WHERE t.prev_quarter < \(range.from) AND t.next_quarter >= \(range.to)), 0)::bigint AS bounces,
                   \(RollupUnit.quarter.durationMicroseconds(in: range, alias: "t")) AS duration_us
            FROM stat_values v
            JOIN filtered_traffic t ON t.site_id = \(question.siteID) AND t.filter = v.id
                                   AND t.quarter >= \(range.from) AND t.quarter < \(range.to)
            WHERE v.dimension = \(question.dimension.name)
            GROUP BY v.value
            HAVING sum(t.pageviews) > 0
            """
        let statement = RawEventBreakdown.ordered(RawEventBreakdown.rounded(sums, question), question, after: position, limit: limit)
        return try RawEventBreakdown.decode(try database.query(statement))
    }
}
