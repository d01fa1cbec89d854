import PostgresClient

/// What the partial quarter hours at the ends of a range (`from=…T10:07:00Z`, as Grafana sends its
/// time range) change in a breakdown's rows over the whole quarters inside it (`RollupBreakdown`:
/// without a filter, or a profile's dimension under filters on the profiles' alone): for every value
/// of a dimension counted per page view at once, what `FilteredEdgeCorrection` is for the numbers
/// under one filter value.
///
/// A session counts differently for a value over the full range than over its whole quarters only
/// when it has matching page views of that value in a partial quarter. The edge sessions' page views
/// are read as `FilteredEdgeCorrection` reads them, and each (session, value) pair with one outside
/// the whole quarters contributes the difference between what it counts in the full range and in
/// the whole quarters, by the same sums: at most a quarter hour's sessions at each end, where
/// reading the range's events took seconds (8 s for the devices of a month of ten million page
/// views, and past the timeout for its paths). The pairs are picked after the grouping rather than
/// joined to a list of them, which a plan expecting a handful of pairs compared one by one.
enum BreakdownEdgeCorrection {
    /// `(value, pageviews, visitors, bounces, duration_us)` to add to the sums over `quarters`,
    /// the whole quarter hours of the question's range (`StatsRange.whole(unitsOf:)`).
    static func sums(_ question: BreakdownQuestion, quarters: StatsRange) -> PostgresQuery {
        """
        SELECT value, \(FilteredEdgeCorrection.differences)
        FROM (
            \(FilteredEdgeCorrection.edgePageViews(siteID: question.siteID, filters: question.filters, range: question.range,
                                                  quarters: quarters, columns: ", \(question.dimension.columnSQL) AS value"))
            SELECT value, \(FilteredEdgeCorrection.groupSums)
            FROM e
            GROUP BY session_id, value
            HAVING count(*) FILTER (WHERE NOT whole_quarter) > 0
        ) AS pairs
        GROUP BY value
        """
    }
}
