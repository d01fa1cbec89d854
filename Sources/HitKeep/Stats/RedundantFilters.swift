import Foundation
import PostgresClient

/// Filters that change no number of a question. Every number is counted over the page views that
/// match all filters, so filters that select the same page views give the same answer: a filter
/// that every page view of the range matches (`hostname:<domain>` on a site whose page views are
/// all on its own domain, `language:en` on a site read only in English) can be left out, and a
/// filter that none matches (a page not viewed in the range) selects nothing with or without the
/// others. Several filters that are not all on visitor profiles are counted from the raw events
/// (seconds at ten million events); what is left may be a question the rollups answer in
/// milliseconds.
///
/// The quarter-hour rollups (migrations/0012) count each filter's page views and all page views
/// over the whole quarter hours that hold the range. The fold writes the rollups in the transaction
/// that writes the events, so in the question's snapshot they agree with the events: a filter that
/// counts every page view there fails none in the range, one that counts none matches none.
enum RedundantFilters {
    /// Filters that select the same page views of `range` as `filters`: the first that matches none
    /// alone, else `filters` without those that all match. As given when there is only one (a
    /// single filter already has rollups), or when the rollups do not hold every event yet.
    static func removed(from filters: [StatsFilter], in range: StatsRange, siteID: String,
                        on database: any PostgresQuerying) throws -> [StatsFilter] {
        guard filters.count > 1, try FilteredRollupStats.isComplete(on: database) else { return filters }
        let cover = range.covering(unitsOf: 900)
        // Position 0 counts every page view (the rollups' filter 0), position i the page views of filters[i - 1].
        var keys: [PostgresQuery] = ["= 0"]
        for filter in filters {
            keys.append("= (\(RollupFilter.number(of: filter)))")
        }
        let counts = keys.enumerated().map { position, key -> PostgresQuery in
            """
            SELECT \(position) AS position, coalesce(sum(pageviews), 0) AS pageviews
            FROM (\(FilteredTrafficRows.of([cover], siteID: siteID, key: key))) AS t
            """
        }
        var pageviews: [Int: Int] = [:]
        for row in try database.query(PostgresQuery.joined(counts, separator: "\nUNION ALL\n")) {
            pageviews[try row.decode(Int.self, "position")] = try row.decode(Int.self, "pageviews")
        }
        let all = pageviews[0] ?? 0
        if let empty = filters.indices.first(where: { pageviews[$0 + 1] ?? 0 == 0 }) {
            return [filters[empty]]
        }
        return filters.enumerated().filter { index, _ in pageviews[index + 1] != all }.map(\.element)
    }
}
