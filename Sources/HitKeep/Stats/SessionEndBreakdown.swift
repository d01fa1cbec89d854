import PostgresClient

/// Landing and exit rows from 0004's session-hours when no filter narrows the page views and both
/// ends of the range are whole UTC hours. A session's hours in the range are linked to the hours
/// before and after them (`prev_hour`, `next_hour`), so its first hour in the range is the one whose
/// previous hour lies before `from`, and that hour's first page view is the session's first in the
/// range: its landing page. Its exit page and last moment come from the hour whose next one lies at
/// or after `to`. Most sessions have one hour in the range and are read row by row; only the few
/// with several are grouped. Other ranges, and filtered questions, are counted from the raw events.
struct SessionEndBreakdown: BreakdownSource {
    let database: any PostgresQuerying

    static func canAnswer(_ question: BreakdownQuestion) -> Bool {
        guard question.filters.isEmpty, question.range.isWholeHours else { return false }
        switch question.dimension.source {
        case .sessionEntry, .sessionExit: return true
        case .event: return false
        }
    }

    func rows(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?) throws -> [BreakdownRow] {
        let statement = RawEventBreakdown.ordered(RawEventBreakdown.rounded(Self.sums(question)), question,
                                                  after: position, limit: limit)
        return try RawEventBreakdown.decode(try database.query(statement))
    }

    /// `(value, pageviews, visitors, bounces, duration_us)` per landing (exit) page.
    static func sums(_ question: BreakdownQuestion) -> PostgresQuery {
        let (from, to) = (question.range.from, question.range.to)
        let isEntry = if case .sessionEntry = question.dimension.source { true } else { false }
        // The column of the session's end hour that names its page, and what marks that hour.
        let endPath = PostgresQuery(unescaped: isEntry ? "first_path" : "last_path")
        let isEndHour: PostgresQuery = isEntry ? "prev_hour < \(from)" : "next_hour >= \(to)"
        let inRange: PostgresQuery = "site_id = \(question.siteID) AND hour >= \(from) AND hour < \(to)"
        let onlyHour: PostgresQuery = "prev_hour < \(from) AND next_hour >= \(to)"
        return """
            SELECT value, sum(pageviews)::bigint AS pageviews, count(*) AS visitors,
                   count(*) FILTER (WHERE pageviews = 1) AS bounces,
                   sum(extract(epoch FROM span) * 1000000) AS duration_us
            FROM (
                SELECT \(endPath) AS value, pageviews, last_at - first_at AS span
                FROM session_hours WHERE \(inRange) AND \(onlyHour)
                UNION ALL
                SELECT (array_agg(\(endPath)) FILTER (WHERE \(isEndHour)))[1], sum(pageviews),
                       max(last_at) - min(first_at)
                FROM session_hours WHERE \(inRange) AND NOT (\(onlyHour))
                GROUP BY session_id
            ) AS sessions
            GROUP BY value
            """
    }
}
