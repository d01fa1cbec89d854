import Foundation
import PostgresClient

/// Numbers without a filter, under one, or under several on visitor profiles' dimensions (the sum
/// of the matching profiles' rows, `VisitorProfiles`), from the quarter-hour rollups of
/// migrations/0012: exact for ranges whose ends, and chart buckets, are whole UTC quarter hours,
/// which days and hours in every time zone are (India's +05:30, Nepal's +05:45). A 30-day question
/// reads a few thousand rollup rows per filter value, however many events match; a set of profiles
/// is corrected by its sessions with page views of two of them (`MixedSessionCorrection`). A range
/// whose ends fall inside a quarter hour (`from=…T10:07:13Z`) is answered for its whole quarters and
/// corrected by the sessions with matching page views in the partial ones (`FilteredEdgeCorrection`).
///
/// Top lists come from the hourly and daily rollups over the whole hours inside the range; when
/// its ends are not whole hours, without a filter, the quarter hours outside them are read from the
/// lists by quarter hour (`QuarterListRows`), and the page views of partial quarters at its ends
/// corrected as under a filter; under a filter, or while `hitkeep migrate` is still
/// adding the existing events to those, the page views of the partial hours at its two ends are
/// added, and the sessions with page views there get their entry and exit pages in the full range
/// instead of the ones the rollups counted for the whole hours (without a filter, `EdgeCorrectedStats`
/// finds those from the sessions' hours).
struct FilteredRollupStats: StatsSource {
    let siteID: String
    let filter: RollupFilter
    let database: any PostgresQuerying

    static func canAnswer(_ range: StatsRange, buckets: [ChartBucket], filters: [StatsFilter]) -> Bool {
        guard RollupFilter(filters) != nil, buckets.allSatisfy({ isWholeQuarter($0.start) }) else { return false }
        // Ends inside quarter hours are corrected by the sessions of the partial quarters.
        return wholeQuarters(of: range) != nil
    }

    /// The rollups' view of `filters` for a question that `canAnswer` accepts, or nil
    /// when the rollups do not hold it yet (a backfill of `hitkeep migrate` is still adding the
    /// events from before a migration).
    static func filter(for filters: [StatsFilter], on database: any PostgresQuerying) throws -> RollupFilter? {
        guard let filter = RollupFilter(filters) else { return nil }
        let profiles = if case .profiles = filter { true } else { false }
        guard try isComplete(on: database, profiles: profiles) else { return nil }
        return filter
    }

    static func isWholeQuarters(_ range: StatsRange) -> Bool {
        isWholeQuarter(range.from) && isWholeQuarter(range.to)
    }

    static func wholeQuarters(of range: StatsRange) -> StatsRange? {
        range.whole(unitsOf: 900)
    }

    static func isWholeQuarter(_ date: Date) -> Bool {
        date.timeIntervalSince1970.truncatingRemainder(dividingBy: 900) == 0
    }

    /// Whether the rollups hold every event: not while `hitkeep migrate` is still adding the events
    /// an installation had before 0012 (`filtered_rollups_backfill`), their hostnames before 0020
    /// (`hostname_rollups_backfill`), or, when `profiles` are asked about, their visitor profiles
    /// before 0024 (`profile_rollups_backfill`).
    static func isComplete(on database: any PostgresQuerying, profiles: Bool = false) throws -> Bool {
        try database.query("""
            SELECT NOT EXISTS (SELECT 1 FROM filtered_rollups_backfill) AND NOT EXISTS (SELECT 1 FROM hostname_rollups_backfill)
                   AND NOT (\(profiles) AND EXISTS (SELECT 1 FROM profile_rollups_backfill)) AS complete
            """)[0].decode(Bool.self, "complete")
    }

    func period(_ range: StatsRange, buckets: [ChartBucket], limit: Int?) throws -> StatsPeriod {
        // A value no event ever had has no number: nothing matches it.
        let keys = try filter.keys(on: database)
        guard !keys.isEmpty else {
            return .nothing(over: buckets)
        }
        let key = Self.condition(keys)
        if keys.count > 1 {
            // A plan made once for any array of profiles cannot tell 60 of them from one. Before
            // `FilteredTrafficRows` read its spans one by one, such a plan joined them to every
            // quarter of every profile (a chart by Berlin days under `device:desktop&os:Windows` at
            // ten million page views a month: 1.3 s against 70 ms); now it costs about a fifth more.
            try database.query("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
        }
        var totals: StatsTotals
        var chart: [ChartPoint]
        var correction: StatsCorrection?
        // The range the rollups answer for: its whole quarters, the partial ones at its ends
        // corrected afterwards.
        var counted = range
        var edges: StatsCorrection?
        if !Self.isWholeQuarters(range), let quarters = Self.wholeQuarters(of: range) {
            edges = try FilteredEdgeCorrection.read(siteID: siteID, filters: filter.filters, range: range, quarters: quarters,
                                                    buckets: buckets, on: database)
            counted = quarters
        }
        // Without a filter, a range of whole hours (the default 30 days, in any zone) has its
        // totals in the hourly rollups, which hold a quarter as many rows, and any chart its
        // whole hours there, quarters only for the hours that two buckets share.
        let unfiltered = RollupStats(siteID: siteID, database: database)
        totals = filter == .none && counted.isWholeHours ? try unfiltered.totals(counted) : try self.totals(counted, key: key)
        chart = filter == .none ? try unfiltered.chart(buckets, counted) : try self.chart(buckets, counted, key: key)
        if case .profiles(let filters) = filter {
            // A period without lists (a comparison) needs no entry and exit pages corrected. The
            // whole hours of the whole quarters are those of the range.
            correction = try MixedSessionCorrection.read(siteID: siteID, filters: filters, range: counted,
                                                         inner: limit == nil ? nil : EdgeCorrectedStats.wholeHours(of: range),
                                                         buckets: buckets, on: database)
            if let correction {
                totals = correction.applied(to: totals)
                chart = correction.applied(to: chart)
            }
        }
        if let edges {
            totals = edges.applied(to: totals)
            chart = edges.applied(to: chart)
        }
        return StatsPeriod(totals: totals, chart: chart,
                           topLists: try limit.map {
                               try topLists(range, key: key, totals: totals, limit: $0, sessionEnds: correction?.sessionEndCounts)
                           } ?? [:])
    }

    /// `= key` or `= ANY (keys)`, to follow a `filter` column: one value's rows are read as before
    /// the profiles came, a set of profiles' with one index descent per profile.
    private static func condition(_ keys: [Int]) -> PostgresQuery {
        keys.count == 1 ? "= \(keys[0])" : "= ANY (\(keys)::integer[])"
    }

    private func totals(_ range: StatsRange, key: PostgresQuery) throws -> StatsTotals {
        // A session is counted at its first session-quarter in the range and ends at its last, as
        // RollupStats.totals counts session-hours.
        let row = try database.query("""
            SELECT coalesce(sum(pageviews), 0) AS pageviews,
                   coalesce(sum(session_quarters) FILTER (WHERE prev_quarter < \(range.from)), 0) AS sessions,
                   coalesce(sum(singles) FILTER (WHERE prev_quarter < \(range.from) AND next_quarter >= \(range.to)), 0) AS bounces,
                   \(RollupUnit.quarter.durationMicroseconds(in: range)) AS duration_us
            FROM (\(FilteredTrafficRows.of([range], siteID: siteID, key: key))) AS t
            """)[0]
        return StatsTotals(pageviews: try row.decode(Int.self, "pageviews"), sessions: try row.decode(Int.self, "sessions"),
                           bounces: try row.decode(Int.self, "bounces"),
                           durationMicroseconds: Int(try row.decode(Double.self, "duration_us")))
    }

    private func chart(_ buckets: [ChartBucket], _ range: StatsRange, key: PostgresQuery) throws -> [ChartPoint] {
        let bounds = ChartBucket.bounds(of: buckets, in: range)
        let rows = try database.query("""
            SELECT b.number, coalesce(sum(t.sign * t.pageviews), 0) AS pageviews,
                   coalesce(sum(t.sign * t.session_quarters) FILTER (WHERE t.prev_quarter < b.lo), 0) AS visitors
            FROM unnest(\(bounds.map(\.from))::timestamptz[]) WITH ORDINALITY AS b (lo, number)
            LEFT JOIN (\(FilteredTrafficRows.of(bounds, siteID: siteID, key: key, cuttingDays: true))) AS t ON t.number = b.number
            GROUP BY b.number, b.lo ORDER BY b.number
            """)
        return try Self.points(buckets, from: rows)
    }

    /// `sessionEnds`: corrections to the entry and exit pages that the rollups count in the whole
    /// hours (`StatsCorrection.sessionEndCounts`).
    private func topLists(_ range: StatsRange, key: PostgresQuery, totals: StatsTotals, limit: Int,
                          sessionEnds: PostgresQuery?) throws -> TopLists {
        let inner = EdgeCorrectedStats.wholeHours(of: range)
        let unfilteredPartialHours = filter == .none && inner != range
        var parts: [PostgresQuery] = []
        if unfilteredPartialHours, try QuarterListRows.isComplete(on: database), let quarters = Self.wholeQuarters(of: range) {
            parts.append(QuarterListRows.unfiltered(over: quarters, siteID: siteID))
            if quarters != range {
                parts.append(try edgeCounts(range, inner: quarters, innerIsWholeHours: false))
            }
        } else {
            if unfilteredPartialHours {
                // The partial hours' events, until `hitkeep migrate` has filled the quarter lists:
                // the controller left the plans generic for the rows.
                try RawEventReading.configure(database, parallel: false)
            }
            if let inner {
                parts.append(try innerCounts(inner, key: key))
            }
            if let sessionEnds {
                parts.append(sessionEnds)
            }
            if inner != range {
                parts.append(try edgeCounts(range, inner: inner))
            }
        }
        // Sessions under a path filter enter and leave on that path, wherever the range ends.
        if let path = filter.path {
            for dimension in Self.sessionEndLists {
                parts.append("SELECT \(dimension.name) AS list, \(path) AS value, \(totals.sessions)::bigint AS n")
            }
        }
        let counts: PostgresQuery = """
            SELECT list, value, sum(n) AS n FROM (\(PostgresQuery.joined(parts, separator: "\nUNION ALL\n"))) AS parts
            GROUP BY list, value
            """
        let rows = try database.query(TopListSQL.ranked(counts, limit: limit, siteID: siteID))
        return try Self.topLists(from: rows)
    }

    private static let sessionEndLists = StatsDimension.lists.filter { !$0.isEventColumn }

    /// `(list, value, n)` over whole hours: 0004's tables without a filter, else the filtered ones.
    private func innerCounts(_ inner: StatsRange, key: PostgresQuery) throws -> PostgresQuery {
        if filter == .none {
            return RollupCountRows.unfiltered(over: inner, siteID: siteID)
        }
        let spans = RollupCountRows.spans(of: inner, siteID: siteID)
        // Other dimensions' values under the filter, by their numbers (under profiles, every
        // dimension's: 0024 counts their own too).
        var counts = RollupCountRows.numberedPageviews(in: "filtered_counts", where: "\(spans) AND filter \(key)")
        if case .value(let filter) = filter {
            // The filter's own list holds its value alone, with the page views of the whole hours.
            let innerPageviews = try totals(inner, key: key).pageviews
            counts.append("\nUNION ALL\nSELECT \(filter.dimension.name), \(filter.value), \(innerPageviews)::bigint")
            if self.filter.path != nil { return counts }
        }
        counts.append("\nUNION ALL\n")
        counts.append(RollupCountRows.numberedSessionEnds(in: "filtered_session_ends",
                                                          where: "\(spans) AND filter \(key) AND \(TopListSQL.sessionEnds(in: inner))"))
        return counts
    }

    /// `(list, value, n)` corrections for the partial hours at the range's ends (all of it when it
    /// holds no whole hour), or, without a filter, its partial quarters outside the quarter lists'
    /// `inner` (`innerIsWholeHours` false): their matching page views, and for each session with
    /// matching page views there, its entry (exit) page in the range in place of the one counted
    /// over `inner`. Raw events, but an hour's worth at most at each end.
    private func edgeCounts(_ range: StatsRange, inner: StatsRange?, innerIsWholeHours: Bool = true) throws -> PostgresQuery {
        if filter == .none, innerIsWholeHours, let inner {
            // Without a filter, `keyed_session_hours` tells where each edge session was first and last
            // in the whole hours, so only the partial hours' events are read.
            return EdgeCorrectedStats(siteID: siteID, database: database).edgeCounts(range, inner: inner)
        }
        let matching = StatsFilter.conditions(filter.filters)
        let edges = inner.map { EventTimeCondition.edges(of: range, outside: $0) } ?? EventTimeCondition.within(range)
        // The partial hours' matching page views are read once and counted, and their sessions
        // looked up, from there (three reads of the same rows were a third of a Kolkata month's
        // lists at ten million page views a month).
        let edgeEvents: PostgresQuery = """
            SELECT session_id, \(TopListSQL.dimensionColumns) FROM events WHERE site_id = \(siteID) AND \(edges)\(matching)
            """
        var counts = TopListSQL.eventDimensions(from: "edge_events", where: "true")
        if filter.path == nil {
            counts.append("\nUNION ALL\n")
            counts.append(TopListSQL.sessionEndChanges(of: edgeSessions(range, inner: inner, matching: matching),
                                                       entry: "s.first_path", countedEntry: "s.inner_first",
                                                       exit: "s.last_path", countedExit: "s.inner_last"))
        }
        return "SELECT * FROM (WITH edge_events AS MATERIALIZED (\(edgeEvents))\n\(counts)) AS edge_counts"
    }

    /// The sessions with matching page views in the partial hours (`edge_events`), each with its
    /// first and last matching path in the range and in its whole hours (`inner_first`, `inner_last`;
    /// NULL without page views there), as a `FROM` item `s`. Ordered by time, a session's page
    /// views in the range are those before the whole hours, then those inside, then those after:
    /// one sorted array of paths gives all four.
    private func edgeSessions(_ range: StatsRange, inner: StatsRange?, matching: PostgresQuery) -> PostgresQuery {
        let before: PostgresQuery = inner.map { "occurred_at < \($0.from)" } ?? "false"
        let isInner: PostgresQuery = inner.map { "occurred_at >= \($0.from) AND occurred_at < \($0.to)" } ?? "false"
        // The edge sessions' page views through the index on their ids' hash (`SessionLookup`):
        // without it this reads every event of the range.
        return """
            (SELECT session_id, paths[1] AS first_path, paths[cardinality(paths)] AS last_path,
                    CASE WHEN inside > 0 THEN paths[earlier + 1] END AS inner_first,
                    CASE WHEN inside > 0 THEN paths[earlier + inside] END AS inner_last
             FROM (SELECT e.session_id, array_agg(path ORDER BY occurred_at, id) AS paths,
                          (count(*) FILTER (WHERE \(before)))::integer AS earlier,
                          (count(*) FILTER (WHERE \(isInner)))::integer AS inside
                   FROM \(SessionLookup.pageViews(of: "(SELECT DISTINCT session_id FROM edge_events)"))
                   WHERE site_id = \(siteID) AND \(EventTimeCondition.within(range))\(matching)
                   GROUP BY e.session_id) AS grouped) AS s
            """
    }
}
