import Foundation
import PostgresClient

/// Paths under one filter on a visitor profile's dimension (`device`, `browser`, `os`, `country`,
/// `language`), from the whole UTC days the roll-up process added up (migrations/0026) and the raw
/// events of the rest of the range. Exact for any range: a session whose page views all lie in one
/// added-up day inside the range is counted from that day's sums; every other session of the range
/// (one in a partial or not yet added-up day, or one of the day's "crossing" sessions, which also
/// have page views on another day) from all its matching page views in the range.
struct PathBreakdownDays: BreakdownSource {
    let database: any PostgresQuerying
    /// The added-up days inside the range, ascending.
    let days: [Date]

    /// The source for `question`, or nil when it is not a path breakdown under one profile filter or
    /// no whole day of its range is added up yet. The days are those of the request's snapshot.
    static func answering(_ question: BreakdownQuestion, database: any PostgresQuerying) throws -> PathBreakdownDays? {
        guard question.dimension == .path, question.filters.count == 1,
              VisitorProfiles.dimensions.contains(question.filters[0].dimension) else { return nil }
        let rows = try database.query("""
            SELECT day FROM path_breakdown_days_closed
            WHERE site_id = \(question.siteID) AND day >= \(question.range.from)
              AND day + interval '1 day' <= \(question.range.to)
            ORDER BY day
            """)
        let days = try rows.map { try $0.decode(Date.self, "day") }
        return days.isEmpty ? nil : PathBreakdownDays(database: database, days: days)
    }

    /// The parts of `range` outside `days` (UTC days inside it, ascending).
    static func remainder(of range: StatsRange, outside days: [Date]) -> [StatsRange] {
        var parts: [StatsRange] = []
        var start = range.from
        for day in days {
            if day > start { parts.append(StatsRange(from: start, to: day)) }
            start = day.addingTimeInterval(86_400)
        }
        if range.to > start { parts.append(StatsRange(from: start, to: range.to)) }
        return parts
    }

    func rows(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?) throws -> [BreakdownRow] {
        // Serial, as the raw breakdown (`RawEventBreakdown`): the grouping by session hardly shrinks.
        try RawEventReading.configure(database, parallel: false)
        let statement = RawEventBreakdown.ordered(RawEventBreakdown.rounded(sums(question), question), question,
                                                  after: position, limit: limit)
        return try RawEventBreakdown.decode(try database.query(statement))
    }

    /// `(value, pageviews, visitors, bounces, duration_us)` per path.
    private func sums(_ question: BreakdownQuestion) -> PostgresQuery {
        let site = question.siteID
        let filter = question.filters[0]
        let matches: PostgresQuery = "\(filter.dimension.columnSQL) = \(filter.value)"
        var outside: PostgresQuery = "false"
        for part in Self.remainder(of: question.range, outside: days) {
            outside.append(" OR \(EventTimeCondition.within(part))")
        }
        return """
            WITH crossing AS MATERIALIZED (
                SELECT DISTINCT unnest(crossing_sessions) AS session_id FROM path_breakdown_days_closed
                WHERE site_id = \(site) AND day = ANY (\(days)::timestamptz[])
            ), e AS (
                SELECT session_id, occurred_at, path FROM events
                WHERE site_id = \(site) AND (\(outside)) AND \(matches)
                UNION ALL
                -- The crossing sessions' page views in the days: found by session
                -- (`events_session_idx`), a few among the days' events.
                SELECT session_id, occurred_at, path FROM events
                WHERE site_id = \(site) AND hashtext(session_id) = ANY (ARRAY(SELECT hashtext(session_id) FROM crossing))
                  AND session_id IN (SELECT session_id FROM crossing)
                  AND date_bin('1 day', occurred_at, 'epoch') = ANY (\(days)::timestamptz[]) AND \(matches)
            ), s AS (
                SELECT path AS value, count(*) AS n, max(occurred_at) - min(occurred_at) AS span
                FROM e GROUP BY path, session_id
            )
            SELECT value, sum(pageviews)::bigint AS pageviews, sum(visitors)::bigint AS visitors,
                   sum(bounces)::bigint AS bounces, sum(duration_us)::bigint AS duration_us
            FROM (
                SELECT value, sum(n) AS pageviews, count(*) AS visitors, count(*) FILTER (WHERE n = 1) AS bounces,
                       sum(\(DurationSQL.microseconds("span"))) AS duration_us
                FROM s GROUP BY value
                UNION ALL
                SELECT p.value, u.pageviews, u.visitors, u.singles, u.duration_us
                FROM path_breakdown_days d
                CROSS JOIN LATERAL unnest(d.path_ids, d.pageviews, d.visitors, d.singles, d.duration_us)
                    AS u (path_id, pageviews, visitors, singles, duration_us)
                JOIN stat_values p ON p.id = u.path_id
                WHERE d.site_id = \(site) AND d.day = ANY (\(days)::timestamptz[])
                  AND d.filter = (SELECT id FROM stat_values
                                  WHERE dimension = \(filter.dimension.name) AND value_md5 = decode(md5(\(filter.value)), 'hex'))
            ) AS parts
            GROUP BY value
            """
    }
}
