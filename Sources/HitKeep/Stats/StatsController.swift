import Foundation
import PostgresClient

/// `GET /api/sites/{site_id}/stats` (docs/API.md §10).
enum StatsController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/sites/{site_id}/stats", query: StatsRequest.parameters, show)
    }

    /// Charts with more steps than this are refused: nobody reads 40 000 hourly points.
    static let maximumBuckets = 10_000
    /// A visitor is live with an event this recent.
    static let liveWindow: TimeInterval = 5 * 60

    /// The top lists in the order the response lists them: response key, list name (the
    /// dimension's name, as `TopLists` are keyed).
    static let topListKeys: [(String, String)] = StatsDimension.lists.compactMap { dimension in
        dimension.list.map { ($0.key, dimension.name) }
    }

    @Sendable static func show(_ request: Request, _ context: RequestContext) throws -> Response {
        let site = try SiteStore.site(context.parameter("site_id"), for: request, .sessionOrToken(.statsRead), context: context)
        return .json(try answer(site: site, query: try StatsRequest(request.query), context: context))
    }

    /// The answer for a site the principal may read: the body of `GET /api/sites/{site_id}/stats`,
    /// and the result of the MCP tool `get_stats` (docs/API.md §12).
    static func answer(site: Site, query: StatsRequest, context: RequestContext) throws -> JSON {
        var query = query
        query.filters = StatsFilter.resolved(query.filters, siteDomain: site.domain)
        let timezone = query.timezone ?? site.timezone
        let (range, previous) = try resolve(query, timezone: timezone, context: context)
        let interval = query.interval ?? StatsInterval.defaultFor(seconds: range.seconds)
        guard range.seconds / interval.minimumSeconds < Double(maximumBuckets) else {
            throw DomainError.invalid("invalid_interval", "\(interval.rawValue) steps over this range make more than \(maximumBuckets) chart points; choose a longer interval")
        }

        // Every event acknowledged before this request is counted: its site's queue is folded into
        // the rollups first (migrations/0008). Rollup queries take milliseconds; only raw-event
        // queries over very many events can run into the statement timeout (503 query_timeout).
        try EventStore.fold(siteID: site.id, on: context.database)
        return try context.readingLagTolerantly {
            try respond(site: site, query: query, range: range, previous: previous, interval: interval,
                        timezone: timezone, context: context)
        }
    }

    static func respond(site: Site, query: StatsRequest, range: StatsRange, previous: StatsRange, interval: StatsInterval,
                        timezone: String, context: RequestContext) throws -> JSON {
        // One snapshot for every number of the response, opened in one round trip with the settings
        // that suit the rollup and edge queries: the planner cannot know how few rows they touch,
        // and compiling them to machine code (jit) or starting parallel workers would cost more
        // than running them. A report that reads raw events allows parallel workers again.
        try context.reads.transaction(begin: """
            BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0
            """) {
            let period = try report(site: site, range: range, interval: interval, timezone: timezone, query: query, context: context)
            var members: [(String, JSON)] = [
                ("site_id", .string(site.id)), ("from", .time(range.from)), ("to", .time(range.to)),
                ("timezone", .string(timezone)), ("interval", .string(interval.rawValue)),
                ("live_visitors", .int(try liveVisitors(siteID: site.id, filters: query.filters, context: context))),
            ]
            members += totalsJSON(period.totals)
            members.append(("chart_data", chartJSON(period.chart)))
            for (key, list) in topListKeys {
                members.append((key, .array((period.topLists[list] ?? []).map {
                    .object([("name", .string($0.name)), ("value", .int($0.value))])
                })))
            }
            if query.compare, let before = try comparisonReport(site: site, range: previous, interval: interval,
                                                                 timezone: timezone, query: query, context: context) {
                members.append(("comparison", .object([("from", .time(previous.from)), ("to", .time(previous.to))]
                    + totalsJSON(before.totals) + [("chart_data", chartJSON(before.chart))])))
            } else {
                members.append(("comparison", .null))
            }
            return .object(members)
        }
    }

    /// The range asked for, with dates resolved in `timezone` (default: the 30 days up to the end of
    /// the current hour), and the period `compare=previous` compares it with.
    ///
    /// The previous period: when `from` is a date, the range is counted in the zone's calendar days,
    /// N from `from`'s day to the day of the range's last instant, and is compared with the same
    /// clock times N days earlier. For whole days (`to` a date too) that is the N days just before,
    /// even across a change of summer time; for days up to a time (the dashboard's "today" ends at
    /// the end of the current hour) it is the same days up to the same time of day, the first time
    /// of day of that reading where clocks went back (`local_to_instant`, migrations/0013). Otherwise
    /// it is the period of equal length just before (`StatsRange.previous`).
    static func resolve(_ query: StatsRequest, timezone: String,
                        context: RequestContext) throws -> (range: StatsRange, previous: StatsRange) {
        var dates: [String?] = [nil, nil]
        if case .date(let text)? = query.from { dates[0] = text }
        if case .date(let text)? = query.to { dates[1] = text }
        var to: Date
        switch query.to {
        case .instant(let date)?: to = date
        case .date?: to = .distantPast   // resolved below
        case nil: to = StatsRange.endOfHour(containing: context.now)
        }
        var from: Date?
        if case .instant(let date)? = query.from { from = date }
        var previousByDays: StatsRange?
        if dates.contains(where: { $0 != nil }) {
            // A date is that whole day in the zone: from its first instant to the next day's first.
            // The days' previous period comes in the same round trip; `days` is bounded so that an
            // out-of-range request (refused below) computes no date before 4713 BC.
            let row = try context.database.query("""
                WITH bounds AS (
                    SELECT local_to_instant(\(dates[0])::date::timestamp, \(timezone)) AS from_instant,
                           coalesce(local_to_instant((\(dates[1])::date + 1)::timestamp, \(timezone)),
                                    \(dates[1] == nil ? to : nil)::timestamptz) AS to_instant
                ), counted AS (
                    SELECT from_instant, to_instant,
                           ((to_instant - interval '1 microsecond') AT TIME ZONE \(timezone))::date - \(dates[0])::date + 1 AS days
                    FROM bounds
                )
                SELECT from_instant, to_instant,
                       CASE WHEN days BETWEEN 1 AND 2000
                            THEN local_to_instant((\(dates[0])::date - days)::timestamp, \(timezone)) END AS previous_from,
                       CASE WHEN days BETWEEN 1 AND 2000
                            THEN local_to_instant((to_instant AT TIME ZONE \(timezone)) - days * interval '1 day', \(timezone)) END AS previous_to
                FROM counted
                """)[0]
            if dates[0] != nil { from = try row.decode(Date.self, "from_instant") }
            if dates[1] != nil { to = try row.decode(Date.self, "to_instant") }
            if let previousFrom = try row.decodeIfPresent(Date.self, "previous_from"),
               let previousTo = try row.decodeIfPresent(Date.self, "previous_to") {
                previousByDays = StatsRange(from: previousFrom, to: previousTo)
            }
        }
        let start = from ?? to.addingTimeInterval(-30 * 86_400)
        guard start < to else {
            throw DomainError.invalid("invalid_range", "from must be before to")
        }
        let range = StatsRange(from: start, to: to)
        guard range.seconds <= StatsRange.maximumSeconds else {
            throw DomainError.invalid("invalid_range", "a range may span at most 5 years")
        }
        return (range, previousByDays ?? range.previous)
    }

    /// One period's numbers: without a filter, from the hourly rollups when the range and the chart
    /// buckets are whole hours; with at most one filter, or several on visitor profiles' dimensions,
    /// from the quarter-hour rollups when the chart buckets are whole quarter hours (days in every
    /// zone are) and the range holds one, corrected by the sessions of partial quarters at its ends;
    /// without a filter otherwise, from the hourly rollups corrected by the events of the partial
    /// hours; else from the events (README, "Performance"). The corrections and the events need raw
    /// events from the range's start (`RawEventHorizon`).
    /// Several filters are first reduced to those that select page views of the range differently
    /// (`RedundantFilters`).
    static func report(site: Site, range: StatsRange, interval: StatsInterval, timezone: String, query: StatsRequest,
                       context: RequestContext, withTopLists: Bool = true) throws -> StatsPeriod {
        let buckets = try ChartBucket.buckets(for: range, interval: interval, timezone: timezone, on: context.reads)
        var query = query
        var isSelective = false
        if RollupFilter(query.filters) == nil {
            guard let reduction = try RedundantFilters.reduced(query.filters, in: range, siteID: site.id, on: context.reads) else {
                return .nothing(over: buckets)
            }
            query.filters = reduction.filters
            isSelective = reduction.isSelective
        }
        let source: any StatsSource
        // The transaction (`respond`) starts without parallel workers, which suits a few thousand
        // rollup rows.
        if RollupStats.canAnswer(range, buckets: buckets, filters: query.filters) {
            source = RollupStats(siteID: site.id, database: context.reads)
        } else if FilteredRollupStats.canAnswer(range, buckets: buckets, filters: query.filters),
                  let filter = try FilteredRollupStats.filter(for: query.filters, on: context.reads) {
            if !FilteredRollupStats.isWholeQuarters(range) {
                try RawEventHorizon.check(range, siteID: site.id, on: context.reads)
            }
            if !range.isWholeHours && filter != .none || !FilteredRollupStats.isWholeQuarters(range) {
                // The events of the partial hours (top lists) or quarters (totals) are read by the
                // hours and sessions they hold, which only a plan made for the values can see.
                // Without a filter, a range of whole quarters is read from rows only
                // (`QuarterListRows`), by plans that prepared statements keep.
                try RawEventReading.configure(context.reads, parallel: false)
            }
            source = FilteredRollupStats(siteID: site.id, filter: filter, database: context.reads)
        } else if EdgeCorrectedStats.canAnswer(range, buckets: buckets, filters: query.filters) {
            try RawEventHorizon.check(range, siteID: site.id, on: context.reads)
            source = EdgeCorrectedStats(siteID: site.id, database: context.reads)
            // Partial hours of a busy site can hold a few hundred thousand events.
            try RawEventReading.configure(context.reads, parallel: false)
        } else {
            try RawEventHorizon.check(range, siteID: site.id, on: context.reads)
            source = RawEventStats(siteID: site.id, filters: query.filters, database: context.reads,
                                   throughValueIndex: isSelective)
            try RawEventReading.configure(context.reads, parallel: true)
        }
        return try source.period(range, buckets: buckets, limit: withTopLists ? query.limit : nil)
    }

    /// The previous period's numbers, or nil when they would need raw events that retention removed:
    /// the period asked for is still answered, with `comparison: null` (docs/API.md §10).
    static func comparisonReport(site: Site, range: StatsRange, interval: StatsInterval, timezone: String,
                                 query: StatsRequest, context: RequestContext) throws -> StatsPeriod? {
        do {
            return try report(site: site, range: range, interval: interval, timezone: timezone, query: query,
                              context: context, withTopLists: false)
        } catch let refusal as DomainError where refusal.code == RawEventHorizon.refusalCode {
            return nil
        }
    }

    /// Distinct sessions with an event in the last five minutes (matching the filters), whatever the range.
    static func liveVisitors(siteID: String, filters: [StatsFilter], context: RequestContext) throws -> Int {
        let rows = try context.reads.query("""
            SELECT count(DISTINCT session_id) AS live FROM events
            WHERE site_id = \(siteID)
              AND \(EventTimeCondition.after(context.now.addingTimeInterval(-liveWindow), through: context.now))\(StatsFilter.conditions(filters))
            """)
        return try rows[0].decode(Int.self, "live")
    }

    static func totalsJSON(_ totals: StatsTotals) -> [(String, JSON)] {
        [("total_pageviews", .int(totals.pageviews)), ("unique_sessions", .int(totals.sessions)),
         ("bounce_rate", .number(totals.bounceRate)), ("avg_session_duration", .number(totals.averageSessionDuration)),
         ("pages_per_session", .number(totals.pagesPerSession))]
    }

    static func chartJSON(_ points: [ChartPoint]) -> JSON {
        .array(points.map { .object([("time", .string($0.bucket.label)), ("pageviews", .int($0.pageviews)),
                                     ("visitors", .int($0.visitors))]) })
    }
}
