import Foundation

/// Where a breakdown's rows come from (docs/API.md §10.5). `RawEventBreakdown` counts them from the
/// raw events; a source that reads rollups answers the same question with the same rows, in the
/// same order, so that the controller, the cursors and the CSV do not care which one answered.
protocol BreakdownSource {
    /// The rows of `question` in its order, starting after `position` (from the first row when
    /// nil), at most `limit` of them (all when nil). Called inside the request's read-only
    /// transaction; a source may `SET LOCAL` what suits its queries.
    ///
    /// The order: by `row.key(question.orderBy)` (ascending or descending as asked), then by
    /// its name (`question.name(of:)`) ascending in byte order, then by `row.value` ascending in byte
    /// order (the last only separates an empty value from a stored value that reads as its name). A row comes after
    /// `position` when it sorts after the row whose key and value the position holds, whether or
    /// not that row still exists: so a cursor keeps its place while new events arrive.
    func rows(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?) throws -> [BreakdownRow]
}

/// What a breakdown counts: one dimension's values among the page views of a site in `range` that
/// match every filter, in one order.
struct BreakdownQuestion: Sendable, Equatable {
    var siteID: String
    var dimension: StatsDimension
    var range: StatsRange
    var filters: [StatsFilter]
    var orderBy: BreakdownRequest.Metric
    var order: BreakdownRequest.Order
    /// How the rows name the empty value: `(none)`, or the site's domain for the hostname.
    var emptyName = StatsFilter.noneName

    /// A value as the API names it.
    func name(of value: String) -> String {
        value.isEmpty ? emptyName : value
    }
}

/// Where a page ended: the last row's sort key and value. A cursor carries it (`BreakdownCursor`).
struct BreakdownPosition: Sendable, Equatable {
    var key: Int
    /// The value as stored ('' for none).
    var value: String
}

/// One value's numbers. Rates and means are kept as whole hundredths, rounded as `StatsTotals.round`
/// rounds them (halves away from zero, of the same double), so that rows sort by exactly the numbers
/// the response shows, and a row reads as the stats filtered on its value do.
struct BreakdownRow: Sendable, Equatable {
    /// The value as stored ('' for none).
    var value: String
    var pageviews: Int
    /// Distinct sessions.
    var visitors: Int
    /// Percent × 100 of `visitors` with exactly one of the row's page views.
    var bounceRateHundredths: Int
    /// Seconds × 100: the mean over `visitors` of (last − first of the row's page views).
    var averageSessionDurationHundredths: Int

    /// The number the rows are ordered by.
    func key(_ metric: BreakdownRequest.Metric) -> Int {
        switch metric {
        case .pageviews: pageviews
        case .visitors: visitors
        case .bounceRate: bounceRateHundredths
        case .averageSessionDuration: averageSessionDurationHundredths
        }
    }

    func position(_ metric: BreakdownRequest.Metric) -> BreakdownPosition {
        BreakdownPosition(key: key(metric), value: value)
    }

    var bounceRate: Double { Double(bounceRateHundredths) / 100 }
    var averageSessionDuration: Double { Double(averageSessionDurationHundredths) / 100 }
}
