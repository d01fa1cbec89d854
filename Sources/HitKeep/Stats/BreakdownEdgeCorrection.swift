import PostgresClient

/// What the partial quarter hours at the ends of a range (`from=…T10:07:00Z`, as Grafana sends its
/// time range) change in a breakdown's rows over the whole quarters inside it (`RollupBreakdown`:
/// without a filter, or a profile's dimension under filters on the profiles' alone): for every value
/// of a dimension counted per page view at once, what `FilteredEdgeCorrection` is for the numbers
/// under one filter value.
///
/// A session counts differently for a value over the full range than over its whole quarters only
/// when it has matching page views of that value in a partial quarter. The sessions with page views
/// there are found, their matching page views in the range looked up (`SessionLookup`), and each
/// (session, value) pair with one outside the whole quarters contributes the difference between what
/// it counts in the full range and in the whole quarters: at most a quarter hour's sessions at each
/// end, where reading the range's events took seconds (8 s for the devices of a month of ten million
/// page views, and past the timeout for its paths). The pairs are picked after the grouping rather
/// than joined to a list of them, which a plan expecting a handful of pairs compared one by one.
enum BreakdownEdgeCorrection {
    /// `(value, pageviews, visitors, bounces, duration_us)` to add to the sums over `quarters`,
    /// the whole quarter hours of the question's range (`StatsRange.whole(unitsOf:)`).
    static func sums(_ question: BreakdownQuestion, quarters: StatsRange) -> PostgresQuery {
        let column = question.dimension.columnSQL
        let range = question.range, siteID = question.siteID
        let matching = StatsFilter.conditions(question.filters)
        return """
            SELECT value, sum(pageviews - quarter_pageviews)::bigint AS pageviews,
                   count(*) FILTER (WHERE quarter_pageviews = 0) AS visitors,
                   count(*) FILTER (WHERE pageviews = 1) - count(*) FILTER (WHERE quarter_pageviews = 1) AS bounces,
                   sum(duration_us - quarter_duration_us) AS duration_us
            FROM (
                WITH edge_sessions AS MATERIALIZED (
                    SELECT DISTINCT session_id FROM events
                    WHERE site_id = \(siteID) AND \(EventTimeCondition.edges(of: range, outside: quarters))\(matching)
                ), e AS (
                    SELECT e.session_id, \(column) AS value, occurred_at,
                           occurred_at >= \(quarters.from) AND occurred_at < \(quarters.to) AS whole_quarter
                    FROM \(SessionLookup.pageViews(of: "edge_sessions"))
                    WHERE site_id = \(siteID) AND \(EventTimeCondition.within(range))\(matching)
                )
                SELECT value, count(*) AS pageviews, count(*) FILTER (WHERE whole_quarter) AS quarter_pageviews,
                       \(DurationSQL.microseconds("max(occurred_at) - min(occurred_at)")) AS duration_us,
                       coalesce(\(DurationSQL.microseconds("max(occurred_at) FILTER (WHERE whole_quarter) - min(occurred_at) FILTER (WHERE whole_quarter)")), 0) AS quarter_duration_us
                FROM e
                GROUP BY session_id, value
                HAVING count(*) FILTER (WHERE NOT whole_quarter) > 0
            ) AS pairs
            GROUP BY value
            """
    }
}
