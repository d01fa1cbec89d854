import PostgresClient

/// Breakdown rows straight from the events: any range, any filters, every dimension. The
/// definitions of docs/API.md §10.5 read as SQL: the matching page views, grouped per session (and
/// value), then per value. Each page reads every matching event of the range once; the cursor only
/// decides where the sorted rows start.
struct RawEventBreakdown: BreakdownSource {
    let database: any PostgresQuerying
    /// Whether to find the matching events through the index of values (`StatsFilter.conditions`).
    var throughValueIndex = false

    func rows(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?) throws -> [BreakdownRow] {
        // Without parallel workers: each worker's partial grouping by (value, session) hardly
        // reduces the rows (sessions are a few page views), so the final grouping redoes it. At
        // 10 million events (`path` under `device:mobile`, 3.6 M page views) the serial plan took
        // 5.5–5.8 s against 6.6–7.3 s, at 1 million the same.
        try RawEventReading.configure(database, parallel: false, compiled: true)
        return try Self.decode(try database.query(Self.statement(question, after: position, limit: limit,
                                                                    throughValueIndex: throughValueIndex)))
    }

    static func statement(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?,
                          throughValueIndex: Bool = false) -> PostgresQuery {
        let conditions = StatsFilter.conditions(question.filters, valueIndexSite: throughValueIndex ? question.siteID : nil)
        let matching: PostgresQuery = """
            SELECT \(countedColumns(question)) FROM events
            WHERE site_id = \(question.siteID) AND \(EventTimeCondition.within(question.range))\(conditions)
            """
        return ordered(rounded(sums(of: matching, question), question), question, after: position, limit: limit)
    }

    /// The columns of `events` that `sums(of:_:)` counts, for the statements that pick its page views.
    static func countedColumns(_ question: BreakdownQuestion) -> PostgresQuery {
        "id, session_id, occurred_at, \(question.dimension.columnSQL)"
    }

    /// `(value, pageviews, visitors, bounces, duration_us)` per value of the question's dimension
    /// among the page views `events` selects (columns `id`, `session_id`, `occurred_at` and the
    /// dimension's): the definitions of §10.5, for every source that counts page views itself.
    static func sums(of events: PostgresQuery, _ question: BreakdownQuestion) -> PostgresQuery {
        let column = question.dimension.columnSQL
        // Per session and value: its page views and the time between the first and the last. For
        // the session ends, the value is that of the session's first (last) matching page view,
        // and the numbers are those of all its matching page views.
        let perSession: PostgresQuery
        if let order = question.dimension.sessionEndOrder {
            perSession = """
                SELECT (array_agg(\(column) ORDER BY \(order)))[1] AS value, count(*) AS n,
                       max(occurred_at) - min(occurred_at) AS span
                FROM e GROUP BY session_id
                """
        } else {
            perSession = "SELECT \(column) AS value, count(*) AS n, max(occurred_at) - min(occurred_at) AS span FROM e GROUP BY \(column), session_id"
        }
        return """
            WITH e AS (\(events)),
            s AS (\(perSession))
            SELECT value, sum(n)::bigint AS pageviews, count(*) AS visitors, count(*) FILTER (WHERE n = 1) AS bounces,
                   sum(\(DurationSQL.microseconds("span"))) AS duration_us
            FROM s GROUP BY value
            """
    }

    /// `(value, pageviews, visitors, bounce_rate, avg_session_duration)` from per-value sums
    /// `(value, pageviews, visitors, bounces, duration_us)`: rates and means as whole hundredths,
    /// computed as `StatsTotals` computes them (the same IEEE double operations, then halves away
    /// from zero), so that a row reads exactly as the stats filtered on its value do. Every source
    /// rounds through here.
    static func rounded(_ sums: PostgresQuery, _ question: BreakdownQuestion) -> PostgresQuery {
        """
        SELECT value, CASE WHEN value = '' THEN \(question.emptyName)::text ELSE value END AS name, pageviews, visitors,
               \(Self.roundedSQL("100 * bounces::float8 / visitors::float8 * 100")) AS bounce_rate,
               \(Self.roundedSQL("duration_us::float8 / 1000000 / visitors::float8 * 100")) AS avg_session_duration
        FROM (\(sums)) AS sums
        """
    }

    /// The rows of `rounded` in the question's order, after `position`, at most `limit`.
    static func ordered(_ rounded: PostgresQuery, _ question: BreakdownQuestion, after position: BreakdownPosition?,
                        limit: Int?) -> PostgresQuery {
        var statement: PostgresQuery = """
            SELECT value, pageviews, visitors, bounce_rate, avg_session_duration FROM (\(rounded)) AS rounded
            """
        let key = PostgresQuery(unescaped: question.orderBy.rawValue)
        let direction = question.order == .asc ? ">" : "<"
        if let position {
            let name = question.name(of: position.value)
            statement.append("""

                WHERE \(key) \(unescaped: direction) \(position.key)
                   OR (\(key) = \(position.key) AND (name COLLATE "C" > \(name)
                       OR (name = \(name) AND value COLLATE "C" > \(position.value))))
                """)
        }
        statement.append("""

            ORDER BY \(key) \(unescaped: question.order == .asc ? "ASC" : "DESC"), name COLLATE "C", value COLLATE "C"
            LIMIT \(limit)
            """)
        return statement
    }

    static func decode(_ rows: PostgresRows) throws -> [BreakdownRow] {
        try rows.map { row in
            BreakdownRow(value: try row.decode(String.self, "value"), pageviews: try row.decode(Int.self, "pageviews"),
                         visitors: try row.decode(Int.self, "visitors"),
                         bounceRateHundredths: try row.decode(Int.self, "bounce_rate"),
                         averageSessionDurationHundredths: try row.decode(Int.self, "avg_session_duration"))
        }
    }

    /// A non-negative `float8` column rounded to a whole number, halves away from zero, as
    /// `Double.rounded(.toNearestOrAwayFromZero)` does (PostgreSQL's `round` of a double may round
    /// halves to even). `x - floor(x)` is exact for doubles, so the comparison is.
    private static func roundedSQL(_ expression: String) -> PostgresQuery {
        let x = "(\(expression))"
        return PostgresQuery(unescaped: "(CASE WHEN \(x) - floor(\(x)) >= 0.5 THEN ceil(\(x)) ELSE floor(\(x)) END)::bigint")
    }
}
