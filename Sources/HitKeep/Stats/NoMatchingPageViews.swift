/// The breakdown of filters that no page view of the range matches together (`RedundantFilters`
/// knows it from the rollups): no rows, without reading any.
struct NoMatchingPageViews: BreakdownSource {
    func rows(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?) throws -> [BreakdownRow] {
        []
    }
}
