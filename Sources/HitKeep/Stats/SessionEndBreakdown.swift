import PostgresClient

/// Landing and exit rows from 0004's session-hours when no filter narrows the page views. A
/// session's hours are linked to the hours before and after them (`prev_hour`, `next_hour`), so
/// among its hours inside the whole UTC hours of the range, the first is the one whose previous hour
/// lies before them, and that hour's first page view is the session's first there: its landing page.
/// Its exit page comes from the hour whose next one lies after them. Most sessions have one hour in
/// the range and are read row by row; only the few with several are grouped.
///
/// A range whose ends are not whole hours (a day in Kolkata starts at 18:30 UTC) has partial hours at
/// its ends. Only the sessions with a page view there ("edge sessions") can land or leave elsewhere
/// than their hours say, so they are counted from their page views in the partial hours and their
/// hours inside, and the others from their hours alone (as `EdgeCorrectedStats` does for the stats).
/// Filtered questions are counted from the raw events.
struct SessionEndBreakdown: BreakdownSource {
    let database: any PostgresQuerying

    static func canAnswer(_ question: BreakdownQuestion) -> Bool {
        guard question.filters.isEmpty, EdgeCorrectedStats.wholeHours(of: question.range) != nil else { return false }
        switch question.dimension.source {
        case .sessionEntry, .sessionExit: return true
        case .event: return false
        }
    }

    func rows(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?) throws -> [BreakdownRow] {
        // As before, parallel workers may scan the range's session-hours.
        try RawEventReading.configure(database, parallel: true, compiled: true)
        let statement = RawEventBreakdown.ordered(RawEventBreakdown.rounded(Self.sums(question), question), question,
                                                  after: position, limit: limit)
        return try RawEventBreakdown.decode(try database.query(statement))
    }

    /// `(value, pageviews, visitors, bounces, duration_us)` per landing (exit) page.
    static func sums(_ question: BreakdownQuestion) -> PostgresQuery {
        let site = question.siteID
        let inner = EdgeCorrectedStats.wholeHours(of: question.range) ?? question.range
        let isEntry = if case .sessionEntry = question.dimension.source { true } else { false }
        // The column of a session's end hour that names its page, and what marks that hour.
        let endPath = PostgresQuery(unescaped: isEntry ? "first_path" : "last_path")
        let isEndHour: PostgresQuery = isEntry ? "prev_hour < \(inner.from)" : "next_hour >= \(inner.to)"
        let onlyHour: PostgresQuery = "prev_hour < \(inner.from) AND next_hour >= \(inner.to)"
        let innerHours: PostgresQuery = """
            site_key = \(SiteKeySQL.of(site)) AND hour >= \(inner.from) AND hour < \(inner.to)
            AND session_id NOT IN (SELECT session_id FROM edge_sessions)
            """
        // An edge session's end among its page views in the partial hours and its hours inside.
        let edgeEnd: PostgresQuery = isEntry
            ? "(array_agg(first_path ORDER BY first_at, first_id))[1]"
            : "(array_agg(last_path ORDER BY last_at DESC, last_id DESC))[1]"
        return """
            WITH edge_events AS MATERIALIZED (
                SELECT id, occurred_at, session_id, path FROM events
                WHERE site_id = \(site) AND \(EventTimeCondition.edges(of: question.range, outside: inner))
            ), edge_sessions AS MATERIALIZED (
                SELECT DISTINCT session_id FROM edge_events
            ), edge_pieces AS (
                SELECT session_id, occurred_at AS first_at, id AS first_id, path AS first_path,
                       occurred_at AS last_at, id AS last_id, path AS last_path, 1 AS pageviews
                FROM edge_events
                UNION ALL
                SELECT h.session_id, h.first_at, h.first_id, h.first_path, h.last_at, h.last_id, h.last_path, h.pageviews
                FROM edge_sessions e
                JOIN keyed_session_hours h ON h.site_key = \(SiteKeySQL.of(site)) AND h.session_id = e.session_id
                                    AND h.hour >= \(inner.from) AND h.hour < \(inner.to)
            )
            SELECT value, sum(pageviews)::bigint AS pageviews, count(*) AS visitors,
                   count(*) FILTER (WHERE pageviews = 1) AS bounces,
                   sum(\(DurationSQL.microseconds("span"))) AS duration_us
            FROM (
                SELECT \(endPath) AS value, pageviews, last_at - first_at AS span
                FROM keyed_session_hours WHERE \(innerHours) AND \(onlyHour)
                UNION ALL
                SELECT (array_agg(\(endPath)) FILTER (WHERE \(isEndHour)))[1], sum(pageviews), max(last_at) - min(first_at)
                FROM keyed_session_hours WHERE \(innerHours) AND NOT (\(onlyHour))
                GROUP BY session_id
                UNION ALL
                SELECT \(edgeEnd), sum(pageviews), max(last_at) - min(first_at)
                FROM edge_pieces GROUP BY session_id
            ) AS sessions
            GROUP BY value
            """
    }
}
