import PostgresClient

/// What some sessions count differently from what the quarter-hour rollups counted for them, to be
/// added to the rollups' numbers: the sessions at a filtered range's partial quarters
/// (`FilteredEdgeCorrection`), or the visits that the rollups of several matching visitor profiles
/// counted once per profile (`MixedSessionCorrection`).
struct StatsCorrection {
    var totals = StatsTotals()
    /// Page views and visitors to add, by bucket index.
    var chart: [Int: (pageviews: Int, visitors: Int)] = [:]
    /// Sessions to add to (or, negative, take from) the entry and exit lists' values, over the
    /// whole hours that the lists read from the rollups.
    var sessionEnds: [(list: String, value: String, sessions: Int)] = []

    func applied(to totals: StatsTotals) -> StatsTotals {
        StatsTotals(pageviews: totals.pageviews + self.totals.pageviews, sessions: totals.sessions + self.totals.sessions,
                    bounces: totals.bounces + self.totals.bounces,
                    durationMicroseconds: totals.durationMicroseconds + self.totals.durationMicroseconds)
    }

    func applied(to points: [ChartPoint]) -> [ChartPoint] {
        points.enumerated().map { index, point in
            guard let added = chart[index] else { return point }
            return ChartPoint(bucket: point.bucket, pageviews: point.pageviews + added.pageviews,
                              visitors: point.visitors + added.visitors)
        }
    }

    /// `sessionEnds` as `(list, value, n)` rows, for the lists' sums; nil when there are none.
    var sessionEndCounts: PostgresQuery? {
        guard !sessionEnds.isEmpty else { return nil }
        return """
            SELECT list, value, n FROM unnest(\(sessionEnds.map(\.list))::text[], \(sessionEnds.map(\.value))::text[],
                                             \(sessionEnds.map(\.sessions))::bigint[]) AS c (list, value, n)
            """
    }
}
