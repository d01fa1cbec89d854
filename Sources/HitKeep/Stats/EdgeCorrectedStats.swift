import Foundation
import PostgresClient

/// Numbers for an unfiltered range whose ends, or chart buckets, are not whole hours
/// (`from=…T10:30:00Z`, days in Asia/Kolkata): the rollups answer for the whole hours inside, and the
/// events of the partial hours correct them. Only the sessions with an event in a partial hour at
/// the range's ends ("edge sessions") can differ from what the rollups say about them, so only they
/// are looked at: their edge events and their session-hours inside the range. Their contribution to
/// the whole hours is taken out of the rollups' sums and their contribution to the full range put
/// in. Each chart bucket is corrected the same way by the partial hours at its own ends.
///
/// The quarter-hour rollups answer such ranges when they hold a whole quarter hour
/// (`FilteredRollupStats`, whose top lists read this type's `edgeCounts`); this answers the rest, and
/// every such range while an upgrade's backfill is still filling the quarter rows.
struct EdgeCorrectedStats: StatsSource {
    let siteID: String
    let database: any PostgresQuerying

    /// The whole UTC hours inside `range`, if there are any.
    static func wholeHours(of range: StatsRange) -> StatsRange? {
        range.whole(unitsOf: 3600)
    }

    static func canAnswer(_ range: StatsRange, buckets: [ChartBucket], filters: [StatsFilter]) -> Bool {
        filters.isEmpty && wholeHours(of: range) != nil
    }

    /// What is known of a session with events in the partial hours. Times are microseconds after
    /// the range's start.
    struct EdgeSession {
        var headCount = 0, tailCount = 0
        var headFirst: Int?, headLast: Int?, tailFirst: Int?, tailLast: Int?
        /// Its page views in the whole hours, and its first and last event there (nil: none there).
        var innerPageviews = 0
        var innerFirst: Int?, innerLast: Int?

        /// First and last event in the full range: head, then whole hours, then tail.
        var first: Int { headFirst ?? innerFirst ?? tailFirst! }
        var last: Int { tailLast ?? innerLast ?? headLast! }
        var pageviews: Int { headCount + innerPageviews + tailCount }
    }

    func period(_ range: StatsRange, buckets: [ChartBucket], limit: Int?) throws -> StatsPeriod {
        guard let inner = Self.wholeHours(of: range) else {
            preconditionFailure("canAnswer guarantees whole hours inside the range")
        }
        let rollups = RollupStats(siteID: siteID, database: database)
        let sessions = try edgeSessions(range, inner: inner)

        var totals = try rollups.totals(inner)
        for session in sessions {
            totals.pageviews += session.headCount + session.tailCount
            totals.sessions += 1
            totals.bounces += session.pageviews == 1 ? 1 : 0
            totals.durationMicroseconds += session.last - session.first
            if let first = session.innerFirst, let last = session.innerLast {
                // The rollups counted it over the whole hours only.
                totals.sessions -= 1
                totals.bounces -= session.innerPageviews == 1 ? 1 : 0
                totals.durationMicroseconds -= last - first
            }
        }

        let chart = try self.chart(buckets, range)

        var lists: TopLists = [:]
        if let limit {
            lists = try topLists(range, inner: inner, limit: limit)
        }
        return StatsPeriod(totals: totals, chart: chart, topLists: lists)
    }

    /// Per bucket (clipped to the range): the rollups over its whole hours, plus the events of the
    /// partial hours at its ends, whose sessions are visitors of the bucket unless its whole hours
    /// counted them already.
    private func chart(_ buckets: [ChartBucket], _ range: StatsRange) throws -> [ChartPoint] {
        var innerFrom: [Date] = [], innerTo: [Date] = []
        var sliceFrom: [Date] = [], sliceTo: [Date] = [], sliceBucket: [Int] = []
        for (index, bucket) in buckets.enumerated() {
            let from = max(bucket.start, range.from)
            let to = min(index + 1 < buckets.count ? buckets[index + 1].start : range.to, range.to)
            let inner = from < to ? Self.wholeHours(of: StatsRange(from: from, to: to)) : nil
            // An empty [x, x) when the bucket has no whole hour: the rollups then add nothing.
            innerFrom.append(inner?.from ?? from)
            innerTo.append(inner?.to ?? from)
            guard from < to else { continue }
            for slice in [(from, inner?.from ?? to), (inner?.to ?? to, to)] where slice.0 < slice.1 {
                sliceFrom.append(slice.0)
                sliceTo.append(slice.1)
                sliceBucket.append(index + 1)
            }
        }
        let wholeHours = try database.query("""
            SELECT b.number, coalesce(sum(t.pageviews), 0) AS pageviews,
                   coalesce(sum(t.session_hours) FILTER (WHERE t.prev_hour < b.lo), 0) AS visitors
            FROM unnest(\(innerFrom)::timestamptz[], \(innerTo)::timestamptz[]) WITH ORDINALITY AS b (lo, hi, number)
            LEFT JOIN traffic_hourly t ON t.site_id = \(siteID) AND t.hour >= b.lo AND t.hour < b.hi
            GROUP BY b.number ORDER BY b.number
            """)
        var points = try Self.points(buckets, from: wholeHours)
        guard !sliceBucket.isEmpty else { return points }
        // The slices' events are picked by constant times, one index range each: joined on the
        // slices' columns instead, the planner cannot tell how few hours they cover and reads every
        // event of the site.
        let inSlices = PostgresQuery.joined(zip(sliceFrom, sliceTo).map { EventTimeCondition.from("\($0)", to: "\($1)", column: "e.occurred_at") },
                                            separator: " OR ")
        let partial = try database.query("""
            WITH slices AS (
                SELECT * FROM unnest(\(sliceFrom)::timestamptz[], \(sliceTo)::timestamptz[], \(sliceBucket)::integer[]) AS s (lo, hi, number)
            ), bounds AS (
                SELECT * FROM unnest(\(innerFrom)::timestamptz[], \(innerTo)::timestamptz[]) WITH ORDINALITY AS b (lo, hi, number)
            ), visits AS (
                SELECT s.number, e.session_id, count(*) AS pageviews
                FROM events e JOIN slices s ON e.occurred_at >= s.lo AND e.occurred_at < s.hi
                WHERE e.site_id = \(siteID) AND (\(inSlices))
                GROUP BY 1, 2
            )
            SELECT v.number, sum(v.pageviews) AS pageviews,
                   count(*) FILTER (WHERE NOT EXISTS (
                       SELECT 1 FROM keyed_session_hours h
                       WHERE h.site_key = \(SiteKeySQL.of(siteID)) AND h.session_id = v.session_id AND h.hour >= b.lo AND h.hour < b.hi)) AS visitors
            FROM visits v JOIN bounds b ON b.number = v.number
            GROUP BY v.number
            """)
        for row in partial {
            let index = try row.decode(Int.self, "number") - 1
            points[index].pageviews += try row.decode(Int.self, "pageviews")
            points[index].visitors += try row.decode(Int.self, "visitors")
        }
        return points
    }

    private func topLists(_ range: StatsRange, inner: StatsRange, limit: Int) throws -> TopLists {
        let counts: PostgresQuery = """
            SELECT list, value, sum(n) AS n FROM (
                \(RollupCountRows.unfiltered(over: inner, siteID: siteID))
                UNION ALL
                \(edgeCounts(range, inner: inner))
            ) AS parts
            GROUP BY list, value
            """
        let rows = try database.query(TopListSQL.ranked(counts, limit: limit, siteID: siteID))
        return try Self.topLists(from: rows)
    }

    /// `(list, value, n)` that the partial hours add to the whole hours' lists: their events'
    /// values, and each edge session's entry and exit page in the full range in place of the ones
    /// the rollups counted for it over the whole hours (its first and last session-hour there).
    ///
    /// Only the partial hours' events are read, grouped by session and end with one sort per group
    /// (an `array_agg` in order, whose ends are the first and last page, where a sorted aggregate
    /// for each of the four pages sorts every group four times), and each session's hours inside
    /// by their key.
    func edgeCounts(_ range: StatsRange, inner: StatsRange) -> PostgresQuery {
        let sessions: PostgresQuery = """
            (SELECT session_id,
                    max(paths[1]) FILTER (WHERE head) AS head_first, max(paths[cardinality(paths)]) FILTER (WHERE head) AS head_last,
                    max(paths[1]) FILTER (WHERE NOT head) AS tail_first, max(paths[cardinality(paths)]) FILTER (WHERE NOT head) AS tail_last
             FROM (SELECT session_id, occurred_at < \(inner.from) AS head, array_agg(path ORDER BY occurred_at, id) AS paths
                   FROM events
                   WHERE site_id = \(siteID) AND \(EventTimeCondition.edges(of: range, outside: inner))
                   GROUP BY 1, 2) AS ends
             GROUP BY session_id) AS s
            LEFT JOIN LATERAL (
                SELECT (array_agg(first_path) FILTER (WHERE prev_hour < \(inner.from)))[1] AS first_path,
                       (array_agg(last_path) FILTER (WHERE next_hour >= \(inner.to)))[1] AS last_path
                FROM keyed_session_hours
                WHERE site_key = \(SiteKeySQL.of(siteID)) AND session_id = s.session_id AND hour >= \(inner.from) AND hour < \(inner.to)
            ) AS h ON true
            """
        return """
        \(TopListSQL.eventDimensions(from: "events", where: "site_id = \(siteID) AND \(EventTimeCondition.edges(of: range, outside: inner))"))
        UNION ALL
        \(TopListSQL.sessionEndChanges(of: sessions, entry: "coalesce(s.head_first, h.first_path, s.tail_first)", countedEntry: "h.first_path",
                                       exit: "coalesce(s.tail_last, h.last_path, s.head_last)", countedExit: "h.last_path"))
        """
    }

    /// The sessions with events in [from, inner.from) or [inner.to, to), with what the corrections need.
    private func edgeSessions(_ range: StatsRange, inner: StatsRange) throws -> [EdgeSession] {
        func offset(_ time: PostgresQuery) -> PostgresQuery {
            DurationSQL.microseconds("\(time) - \(range.from)::timestamptz")
        }
        func part(_ name: String, _ condition: PostgresQuery) -> PostgresQuery {
            """
            count(*) FILTER (WHERE \(condition)) AS \(unescaped: name)_count,
            \(offset("min(occurred_at) FILTER (WHERE \(condition))")) AS \(unescaped: name)_first,
            \(offset("max(occurred_at) FILTER (WHERE \(condition))")) AS \(unescaped: name)_last
            """
        }
        let rows = try database.query("""
            WITH sessions AS (
                SELECT session_id, \(part("head", "occurred_at < \(inner.from)")), \(part("tail", "occurred_at >= \(inner.to)"))
                FROM events
                WHERE site_id = \(siteID) AND \(EventTimeCondition.edges(of: range, outside: inner))
                GROUP BY session_id
            )
            SELECT s.*, coalesce(h.pageviews, 0) AS inner_pageviews, h.inner_first, h.inner_last
            FROM sessions s
            LEFT JOIN LATERAL (
                SELECT sum(pageviews) AS pageviews, \(offset("min(first_at)")) AS inner_first, \(offset("max(last_at)")) AS inner_last
                FROM keyed_session_hours
                WHERE site_key = \(SiteKeySQL.of(siteID)) AND session_id = s.session_id AND hour >= \(inner.from) AND hour < \(inner.to)
            ) AS h ON true
            """)
        return try rows.map { row in
            var session = EdgeSession()
            session.headCount = try row.decode(Int.self, "head_count")
            session.tailCount = try row.decode(Int.self, "tail_count")
            session.headFirst = try row.decodeIfPresent(Int.self, "head_first")
            session.headLast = try row.decodeIfPresent(Int.self, "head_last")
            session.tailFirst = try row.decodeIfPresent(Int.self, "tail_first")
            session.tailLast = try row.decodeIfPresent(Int.self, "tail_last")
            session.innerPageviews = try row.decode(Int.self, "inner_pageviews")
            session.innerFirst = try row.decodeIfPresent(Int.self, "inner_first")
            session.innerLast = try row.decodeIfPresent(Int.self, "inner_last")
            return session
        }
    }
}
