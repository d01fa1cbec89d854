import Foundation
import PostgresClient

/// Filters that change no number of a question: those that every page view of its range matches,
/// such as `hostname:<domain>` on a site whose page views are all on its own domain, or
/// `language:en` on a site read only in English. Several filters that are not all on visitor
/// profiles are counted from the raw events (seconds at ten million events); without the redundant
/// ones, what is left may be a question the rollups answer in milliseconds.
///
/// A filter is redundant when the quarter-hour rollups (migrations/0012) count as many page views
/// under it as page views in all, over the whole quarter hours that hold the range. The fold writes
/// the rollups in the transaction that writes the events, so in the question's snapshot the two
/// agree: equal counts mean that no page view of the range fails the filter.
enum RedundantFilters {
    /// `filters` without the redundant ones over `range`; as given when there is only one (a single
    /// filter already has rollups), or when the rollups do not hold every event yet.
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
        return filters.enumerated().filter { index, _ in pageviews[index + 1] != all }.map(\.element)
    }
}
