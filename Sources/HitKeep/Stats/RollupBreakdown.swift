import Foundation
import PostgresClient

/// Breakdown rows from the quarter-hour rollups (migrations/0012, 0024, 0025), exact for ranges whose
/// ends are whole quarter hours:
/// - without a filter, a value v of a dimension counted per page view is the filter `dimension:v`,
///   whose sums `filtered_traffic` keeps, so each row is one filter value's totals over the range,
///   as `FilteredRollupStats` computes them; a range with an end inside a quarter hour is answered
///   for its whole quarters and corrected by the sessions of the partial ones (`BreakdownEdgeCorrection`);
/// - under filters on visitor profiles' dimensions alone, a row of one of those dimensions is the
///   sum of the matching profiles that hold its value (`VisitorProfiles`), corrected by the
///   sessions in the range with page views of two of them (`MixedSessionCorrection`).
/// Other filters, and the session-end dimensions (landing, exit), are counted elsewhere.
struct RollupBreakdown: BreakdownSource {
    /// Which `stat_values` rows hold the breakdown's values, and how a row names its value.
    private enum Rows {
        /// The dimension's own values.
        case values
        /// The profiles with these numbers, grouped by their element at `position`.
        case profiles([Int], position: Int)
    }

    private let rowsFrom: Rows
    /// The whole quarter hours inside a range whose ends are not whole quarters, which the rollups
    /// answer for; nil when its ends are.
    private var quarters: StatsRange?
    let database: any PostgresQuerying

    /// The source for `question`, or nil when the rollups cannot answer it: not every event is
    /// rolled up yet (a backfill is running), a range without a whole quarter hour, or filters the
    /// profiles do not cover. A range with an end inside a quarter hour whose raw events retention
    /// may have removed is refused (`RawEventHorizon`).
    static func answering(_ question: BreakdownQuestion, database: any PostgresQuerying) throws -> RollupBreakdown? {
        guard question.dimension.isEventColumn else { return nil }
        var source: RollupBreakdown
        if question.filters.isEmpty {
            guard try FilteredRollupStats.isComplete(on: database) else { return nil }
            source = RollupBreakdown(rowsFrom: .values, database: database)
        } else {
            guard let position = VisitorProfiles.dimensions.firstIndex(of: question.dimension),
                  VisitorProfiles.cover(question.filters),
                  try FilteredRollupStats.isComplete(on: database, profiles: true)
            else { return nil }
            let keys = try VisitorProfiles.ids(matching: question.filters, on: database)
            source = RollupBreakdown(rowsFrom: .profiles(keys, position: position), database: database)
        }
        if !FilteredRollupStats.isWholeQuarters(question.range) {
            guard let quarters = FilteredRollupStats.wholeQuarters(of: question.range) else { return nil }
            try RawEventHorizon.check(question.range, siteID: question.siteID, on: database)
            source.quarters = quarters
        }
        return source
    }

    func rows(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?) throws -> [BreakdownRow] {
        // The question over the range the rollups answer for.
        var counted = question
        counted.range = quarters ?? question.range
        let range = counted.range
        if quarters != nil {
            // The partial quarters' page views are read by the hours and sessions they hold, which
            // only a plan made for the values can see.
            try RawEventReading.configure(database, parallel: false)
        }
        let value: PostgresQuery
        let selected: PostgresQuery
        var mixedSessions: [String] = []
        switch rowsFrom {
        case .values:
            value = "v.value"
            selected = "v.dimension = \(question.dimension.name)"
        case .profiles(let keys, let element):
            // Filters no profile matches: no rows, as the raw events would have none.
            guard !keys.isEmpty else { return [] }
            value = "(v.value::json ->> \(unescaped: String(element)))"
            selected = "v.id = ANY (\(keys)::integer[])"
            mixedSessions = try MixedSessionCorrection.sessions(siteID: question.siteID, filters: question.filters,
                                                                range: range, on: database)
        }
        // Per value: its page views, and its sessions, bounces and durations as `FilteredRollupStats`
        // counts them under one filter value or a set of profiles.
        var sums: PostgresQuery = """
            SELECT \(value) AS value, sum(t.pageviews)::bigint AS pageviews,
                   coalesce(sum(t.session_quarters) FILTER (WHERE t.prev_quarter < \(range.from)), 0)::bigint AS visitors,
                   coalesce(sum(t.singles) FILTER (WHERE t.prev_quarter < \(range.from) AND t.next_quarter >= \(range.to)), 0)::bigint AS bounces,
                   \(RollupUnit.quarter.durationMicroseconds(in: range, alias: "t")) AS duration_us
            FROM stat_values v
            CROSS JOIN LATERAL (\(FilteredTrafficRows.of([range], siteID: question.siteID, key: "= v.id"))) AS t
            WHERE \(selected)
            GROUP BY 1
            HAVING sum(t.pageviews) > 0
            """
        // What the visits with page views of several matching profiles, and the sessions at the
        // partial quarters, count differently.
        var corrections: [PostgresQuery] = []
        if !mixedSessions.isEmpty {
            corrections.append(MixedSessionCorrection.breakdownSums(counted, sessions: mixedSessions))
        }
        if let quarters {
            corrections.append(BreakdownEdgeCorrection.sums(question, quarters: quarters))
        }
        if !corrections.isEmpty {
            let parts = PostgresQuery.joined(([sums] + corrections).map { "(SELECT * FROM (\($0)) AS part)" }, separator: "\nUNION ALL\n")
            sums = """
                SELECT value, sum(pageviews)::bigint AS pageviews, sum(visitors)::bigint AS visitors,
                       sum(bounces)::bigint AS bounces, sum(duration_us) AS duration_us
                FROM (\(parts)) AS corrected
                GROUP BY value
                HAVING sum(pageviews) > 0
                """
        }
        let statement = RawEventBreakdown.ordered(RawEventBreakdown.rounded(sums, question), question, after: position, limit: limit)
        return try RawEventBreakdown.decode(try database.query(statement))
    }
}
