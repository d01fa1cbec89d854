import Foundation
import PostgresClient

/// Filters that change no number of a question. Every number is counted over the page views that
/// match all filters, so filters that select the same page views give the same answer:
/// - a filter that every page view of the range matches (`hostname:<domain>` on a site whose page
///   views are all on its own domain, `language:en` on a site read only in English) can be left out;
/// - so can one that every page view of another filter matches (`utm_medium:email` beside
///   `utm_source:newsletter` when every newsletter link says email, `hostname:blog.example.com`
///   beside a path only the blog has);
/// - and when one filter matches no page view, or two match none together (`path:/a` and `path:/b`,
///   a campaign only ever sent by email and `utm_medium:cpc`), no page view matches them all: every
///   number is 0 and nothing needs reading.
/// Several filters that are not all on visitor profiles are counted from the raw events (seconds at
/// ten million events); what is left may be a question the rollups answer in milliseconds.
///
/// The rollups count each filter's page views, all page views, and each filter's page views by the
/// values of the other dimensions (`filtered_counts`), over the whole hours that hold the range. The
/// fold writes the rollups in the transaction that writes the events, so in the question's snapshot
/// they agree with the events: a filter that counts every page view there fails none in the range,
/// one that counts none matches none. They are kept for good and every pair of values is counted,
/// so a count of 0 is no page view, never a value left out.
enum RedundantFilters {
    /// Filters that select the same page views of `range` as `filters`: `filters` without those that
    /// all page views match and those that another kept filter's page views all match; nil when no
    /// page view matches them all. As given, and not known to be selective, when there is only one
    /// (a single filter already has rollups), or when the rollups do not hold every event yet.
    static func reduced(_ filters: [StatsFilter], in range: StatsRange, siteID: String,
                        on database: any PostgresQuerying) throws -> Reduction? {
        guard filters.count > 1, try FilteredRollupStats.isComplete(on: database) else {
            return Reduction(filters: filters, isSelective: false)
        }
        let counts = try Counts.read(filters, over: range.covering(unitsOf: 3_600), siteID: siteID, on: database)
        guard let kept = kept(filters, given: counts) else { return nil }
        return Reduction(filters: kept.map { filters[$0] },
                         isSelective: kept.count > 1 && isSelective(kept.filter { !filters[$0].value.isEmpty }, given: counts))
    }

    /// The filters left, and whether they select few enough of the range's page views that finding
    /// them through the index of values (migrations/0033) beats reading every page view of the range.
    struct Reduction: Equatable {
        var filters: [StatsFilter]
        var isSelective: Bool
    }

    /// Whether the filters at `keyed` (those the index holds: not on an empty value) select about one
    /// page view in `selectiveShare` of all, or fewer. One filter selects its page views, two exactly
    /// those they hold together; a third is taken to select the same share of the first one's page
    /// views as it does of all of them together with it, and the smallest such estimate counts.
    ///
    /// Measured at ten million page views a month (a month's range, two filters), counting the
    /// matching page views: through the index 175 ms for 0.3 % of them and 236 ms for 0.4 %, the same
    /// as a plain read (about 1 s) at 0.9 %, two and a half times as long at 3 %: each page view found
    /// costs a read of its own table page. A wrong guess costs time, never a number.
    static func isSelective(_ keyed: [Int], given counts: Counts) -> Bool {
        guard !keyed.isEmpty, counts.all > 0 else { return false }
        let estimates = keyed.map { base -> Double in
            let own = Double(counts.pageviews[base] ?? 0)
            guard own > 0 else { return 0 }
            return keyed.filter { $0 != base }.reduce(own) { estimate, other in
                estimate * Double(counts.together[base]?[other] ?? 0) / own
            }
        }
        return (estimates.min() ?? 0) * Double(selectiveShare) <= Double(counts.all)
    }

    /// One page view in this many, at most, is a selective question's.
    static let selectiveShare = 200

    /// The positions of the filters to keep, by what `counts` say of them; nil when no page view
    /// matches them all.
    static func kept(_ filters: [StatsFilter], given counts: Counts) -> [Int]? {
        for first in filters.indices {
            if counts.pageviews[first] == 0 { return nil }
            for second in filters.indices where second != first {
                // A page view has one value of each dimension.
                let disjoint = filters[first].dimension == filters[second].dimension
                    ? filters[first].value != filters[second].value
                    : counts.together[first]?[second] == nil
                if disjoint { return nil }
            }
        }
        var kept = filters.indices.filter { counts.pageviews[$0] != counts.all }
        for index in kept {
            let implied = kept.contains { other in
                other != index && (filters[other] == filters[index] || counts.together[other]?[index] == counts.pageviews[other])
            }
            if implied { kept.removeAll { $0 == index } }
        }
        return kept
    }

    /// Page views over a range of whole hours, from the rollups.
    struct Counts: Equatable {
        /// All of them.
        var all = 0
        /// Matching each filter, by the filter's position.
        var pageviews: [Int: Int] = [:]
        /// Matching two filters on different dimensions: `together[i][j]` are filter i's page views
        /// that also match filter j, absent when there are none.
        var together: [Int: [Int: Int]] = [:]

        static func read(_ filters: [StatsFilter], over cover: StatsRange, siteID: String,
                         on database: any PostgresQuerying) throws -> Counts {
            // Each filter's value number (`stat_values`, as the rollups number filters and values),
            // looked up once, by the filter's position from 1; NULL for a value no event ever had.
            let numbers: [PostgresQuery] = filters.map { "(\(RollupFilter.number(of: $0)))" }
            let numbered: PostgresQuery = """
                WITH numbered AS MATERIALIZED (
                    SELECT * FROM unnest(ARRAY[\(PostgresQuery.joined(numbers, separator: ", "))]::integer[])
                        WITH ORDINALITY AS n (number, position)
                )
                """
            // Position 0 counts every page view (the rollups' filter 0), position i the page views of filters[i - 1].
            var parts: [PostgresQuery] = ["SELECT \(0)::bigint AS position, NULL::bigint AS other, \(sum(of: "= 0", over: cover, siteID: siteID)) AS pageviews"]
            for position in 1...filters.count {
                let key: PostgresQuery = "= (SELECT number FROM numbered WHERE position = \(position))"
                parts.append("SELECT \(position)::bigint, NULL::bigint, \(sum(of: key, over: cover, siteID: siteID))")
            }
            // Each filter's page views by the values of the other filters (`filtered_counts`).
            parts.append("""
                SELECT f.position, o.position, sum(u.n)::bigint
                FROM numbered f
                JOIN filtered_counts c ON \(RollupCountRows.spans(of: cover, siteID: siteID)) AND c.filter = f.number
                CROSS JOIN LATERAL unnest(c.value_ids, c.pageviews) AS u (id, n)
                JOIN numbered o ON o.number = u.id
                GROUP BY 1, 2
                """)
            var counts = Counts()
            for row in try database.query("\(numbered)\n\(PostgresQuery.joined(parts, separator: "\nUNION ALL\n"))") {
                let position = try row.decode(Int.self, "position")
                let pageviews = try row.decode(Int.self, "pageviews")
                if let other: Int = try row.decodeIfPresent(Int.self, "other") {
                    counts.together[position - 1, default: [:]][other - 1] = pageviews
                } else if position == 0 {
                    counts.all = pageviews
                } else {
                    counts.pageviews[position - 1] = pageviews
                }
            }
            return counts
        }

        /// The page views under `key` (following the `filter` column) over `cover`, from the quarter-hour rollups.
        private static func sum(of key: PostgresQuery, over cover: StatsRange, siteID: String) -> PostgresQuery {
            "(SELECT coalesce(sum(pageviews), 0) FROM (\(FilteredTrafficRows.of([cover], siteID: siteID, key: key))) AS t)"
        }
    }
}
