import PostgresClient

/// The rows that give an unfiltered range of whole quarter hours (a day in Asia/Kolkata, from
/// 18:30 UTC) its top lists, from rollups alone: page views per
/// value from 0004's tables over the whole hours inside and from `quarter_counts` over the quarters
/// outside them, landing and exit pages from `quarter_session_ends`, whose boundaries are quarter
/// hours (migrations/0045).
enum QuarterListRows {
    /// Whether the quarter lists hold every event: not while `hitkeep migrate` is still adding the
    /// events an installation had before 0045 (`quarter_lists_backfill`).
    static func isComplete(on database: any PostgresQuerying) throws -> Bool {
        try database.query("SELECT NOT EXISTS (SELECT 1 FROM quarter_lists_backfill) AS complete")[0]
            .decode(Bool.self, "complete")
    }

    /// `(list, value, n)` rows over `range`, not yet summed per list and value.
    static func unfiltered(over range: StatsRange, siteID: String) -> PostgresQuery {
        let inner = EdgeCorrectedStats.wholeHours(of: range)
        let partial = inner.map { [StatsRange(from: range.from, to: $0.from), StatsRange(from: $0.to, to: range.to)] } ?? [range]
        // None when the range is whole hours (the whole quarters of a range that ends inside them).
        let partialHours = partial.filter { $0.from < $0.to }
        func inPartialHours(_ column: String) -> PostgresQuery {
            guard !partialHours.isEmpty else { return "false" }
            return PostgresQuery.joined(partialHours.map {
                "(\(unescaped: column) >= \($0.from) AND \(unescaped: column) < \($0.to))"
            }, separator: " OR ")
        }
        var spans: PostgresQuery = "(site_id = \(siteID) AND span = 'quarter' AND (\(inPartialHours("bucket"))))"
        var rows: [PostgresQuery] = []
        if let inner {
            spans = "(\(RollupCountRows.spans(of: inner, siteID: siteID))) OR \(spans)"
            rows.append(RollupCountRows.unfilteredPageviews(over: inner, siteID: siteID))
        }
        rows.append(RollupCountRows.numberedPageviews(in: "quarter_counts",
                                                      where: "site_id = \(siteID) AND (\(inPartialHours("quarter")))"))
        rows.append(RollupCountRows.numberedSessionEnds(in: "quarter_session_ends",
                                                        where: "(\(spans)) AND \(TopListSQL.sessionEnds(in: range))"))
        return PostgresQuery.joined(rows, separator: "\nUNION ALL\n")
    }
}
