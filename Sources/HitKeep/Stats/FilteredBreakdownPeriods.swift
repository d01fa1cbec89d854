import Foundation
import PostgresClient

/// Any dimension under one filter of any type, but for a visitor profile's dimension under a profile
/// filter (`RollupBreakdown`'s), and landing and exit pages without a filter, from the whole days (of
/// the site's zone) and UTC hours the roll-up process added up (migrations/0026, 0029, 0030, 0032,
/// 0035) and the raw events of the rest of the range. Exact for any range: a session whose page views all lie in one added-up period inside the
/// range is counted from that period's sums; every other session of the range (one in a partial or
/// not yet added-up hour, or one of a period's "crossing" sessions, which also have page views
/// outside it) from all its matching page views in the range.
struct FilteredBreakdownPeriods: BreakdownSource {
    /// A day of the site's zone (23 to 25 hours) or a UTC hour, added up.
    struct Period: Sendable, Equatable {
        var start: Date
        var end: Date
        var isDay: Bool

        func overlaps(_ other: Period) -> Bool { start < other.end && other.start < end }
    }

    /// A day added up that the range holds only partly, read as its sums less what its sessions
    /// with page views outside the range count there, plus what they count inside: the raw events of
    /// those sessions instead of every event of the part inside (a range in Asia/Kolkata on a
    /// Europe/Berlin site ends 19.5 hours into a day of the site: the sessions of its last 4.5 hours).
    struct PartialDay: Sendable, Equatable {
        var day: Period
        /// The day's part inside the range, and the part outside it (at one end).
        var inside: StatsRange
        var outside: StatsRange
    }

    let database: any PostgresQuerying
    /// The added-up periods inside the range: its days, and the hours of the other days; ascending.
    let periods: [Period]
    /// Days at the range's ends that it holds nearly whole, and no period overlaps.
    let partialDays: [PartialDay]

    /// The source for `question`, or nil when it is not a breakdown under one filter (other than one
    /// by a profile's dimension under a profile filter) nor one by landing or exit page without a
    /// filter, or nothing of its range is added up for its dimension yet (the roll-up adds up those
    /// `filtered_breakdown_dimensions()` names, migrations/0030). The periods are those of the
    /// request's snapshot. Without a filter, every period must hold the rows of no filter (0035):
    /// one added up before has none, and its sessions would go uncounted.
    static func answering(_ question: BreakdownQuestion, database: any PostgresQuerying) throws -> FilteredBreakdownPeriods? {
        let unfiltered = question.filters.isEmpty
        if unfiltered {
            guard SessionEndBreakdown.canAnswer(question) else { return nil }
        } else {
            guard question.filters.count == 1,
                  !(VisitorProfiles.dimensions.contains(question.dimension)
                      && VisitorProfiles.dimensions.contains(question.filters[0].dimension)) else { return nil }
        }
        // A period without sums (no session lay inside it) counts nothing under any filter.
        let holdsUnfiltered: PostgresQuery = unfiltered ? """
            EXISTS (SELECT 1 FROM filtered_breakdowns d
                    WHERE d.site_id = c.site_id AND d.dimension = c.dimension AND d.span = c.span AND d.bucket = c.bucket
                      AND d.filter = 0)
            OR NOT EXISTS (SELECT 1 FROM filtered_breakdowns d
                           WHERE d.site_id = c.site_id AND d.dimension = c.dimension AND d.span = c.span AND d.bucket = c.bucket)
            """ : "true"
        // Every period that overlaps the range; none is longer than a day of 25 hours.
        let rows = try database.query("""
            SELECT span = 'day' AS is_day, bucket, ends, \(holdsUnfiltered) AS unfiltered
            FROM filtered_breakdown_closed c
            WHERE site_id = \(question.siteID) AND dimension = \(question.dimension.name)
              AND bucket >= \(question.range.from)::timestamptz - interval '25 hours' AND bucket < \(question.range.to)
              AND ends > \(question.range.from)
            ORDER BY bucket
            """)
        if unfiltered, try rows.contains(where: { try !$0.decode(Bool.self, "unfiltered") }) {
            return nil
        }
        // A long session (a script's) in the range would be read page view by page view when it
        // crosses a period, which the session-hours hold as a row per hour: 418 000 page views of
        // one session took a landing breakdown of a million page views a month from 10 to 700 ms.
        if unfiltered, try Self.holdsLongSessions(question, database: database) {
            return nil
        }
        let overlapping = try rows.map {
            Period(start: try $0.decode(Date.self, "bucket"), end: try $0.decode(Date.self, "ends"),
                   isDay: try $0.decode(Bool.self, "is_day"))
        }
        let range = question.range
        let periods = Self.disjoint(overlapping.filter { range.from <= $0.start && $0.end <= range.to })
        let partialDays = Self.partialDays(overlapping, of: range, besides: periods)
        guard !periods.isEmpty || !partialDays.isEmpty else { return nil }
        return FilteredBreakdownPeriods(database: database, periods: periods, partialDays: partialDays)
    }

    /// Whether a long session (migrations/0014) has page views in the question's range.
    private static func holdsLongSessions(_ question: BreakdownQuestion, database: any PostgresQuerying) throws -> Bool {
        try database.query("""
            SELECT EXISTS (\(VisitorProfiles.longSessions(siteID: question.siteID, in: question.range))) AS held
            """)[0].decode(Bool.self, "held")
    }

    /// The days of `closed` that `range` holds partly, at one end, which no period overlaps; of two
    /// overlapping (a site's days before and after it changed its zone), the first. Only days whose
    /// part outside is less than a quarter of the part inside: a session found there costs, through
    /// the index on sessions, about what five page views of a plain range read cost.
    static func partialDays(_ closed: [Period], of range: StatsRange, besides periods: [Period]) -> [PartialDay] {
        var chosen: [PartialDay] = []
        for day in closed where day.isDay && day.start < range.to && range.from < day.end {
            let startsBefore = day.start < range.from, endsAfter = day.end > range.to
            // A day inside the range is a period; one that holds all of it is left to the raw events.
            guard startsBefore != endsAfter,
                  !periods.contains(where: day.overlaps), !chosen.contains(where: { day.overlaps($0.day) }) else { continue }
            let inside = StatsRange(from: max(day.start, range.from), to: min(day.end, range.to))
            let outside = startsBefore ? StatsRange(from: day.start, to: range.from) : StatsRange(from: range.to, to: day.end)
            if outside.seconds * 4 < inside.seconds {
                chosen.append(PartialDay(day: day, inside: inside, outside: outside))
            }
        }
        return chosen
    }

    /// Periods of `closed` (ascending) that do not overlap: its days, but one that overlaps an
    /// earlier one (days of the zone a site had before, until the closings drop them), and its hours
    /// outside those days. The days a default range starts in keep their hours (migrations/0027), a
    /// snapshot may hold a day and the hours it drops, and in a zone a half hour off UTC the hour a
    /// day starts inside is in no day.
    static func disjoint(_ closed: [Period]) -> [Period] {
        var days: [Period] = []
        for day in closed where day.isDay && !days.contains(where: day.overlaps) {
            days.append(day)
        }
        let hours = closed.filter { !$0.isDay && !days.contains(where: $0.overlaps) }
        return (days + hours).sorted { $0.start < $1.start }
    }

    /// The parts of `range` outside `periods` (disjoint, inside it, ascending).
    static func remainder(of range: StatsRange, outside periods: [Period]) -> [StatsRange] {
        var parts: [StatsRange] = []
        var start = range.from
        for period in periods {
            if period.start > start { parts.append(StatsRange(from: start, to: period.start)) }
            start = period.end
        }
        if range.to > start { parts.append(StatsRange(from: start, to: range.to)) }
        return parts
    }

    func rows(_ question: BreakdownQuestion, after position: BreakdownPosition?, limit: Int?) throws -> [BreakdownRow] {
        // Serial, as the raw breakdown (`RawEventBreakdown`): the grouping by session hardly shrinks.
        try RawEventReading.configure(database, parallel: false)
        let statement = RawEventBreakdown.ordered(RawEventBreakdown.rounded(sums(question), question), question,
                                                  after: position, limit: limit)
        return try RawEventBreakdown.decode(try database.query(statement))
    }

    /// `(value, pageviews, visitors, bounces, duration_us)` per value of the question's dimension.
    private func sums(_ question: BreakdownQuestion) -> PostgresQuery {
        let site = question.siteID
        let dimension = question.dimension
        // No filter (a landing or exit breakdown) is the rollups' filter 0, which every page view matches.
        let filter = question.filters.first
        let matches: PostgresQuery = filter.map { "\($0.dimension.columnSQL) = \($0.value)" } ?? "true"
        let filterNumber = filter.map(RollupFilter.number(of:)) ?? "SELECT 0"
        // The parts of partial days inside the range are no more raw than the periods are.
        let counted = periods + partialDays.map { Period(start: $0.inside.from, end: $0.inside.to, isDay: true) }
        var outside: PostgresQuery = "false"
        for part in Self.remainder(of: question.range, outside: counted.sorted { $0.start < $1.start }) {
            outside.append(" OR \(EventTimeCondition.within(part))")
        }
        let days = periods.filter(\.isDay).map(\.start) + partialDays.map(\.day.start)
        let hours = periods.filter { !$0.isDay }.map(\.start)
        let isPeriod: PostgresQuery = """
            ((span = 'day' AND bucket = ANY (\(days)::timestamptz[])) OR (span = 'hour' AND bucket = ANY (\(hours)::timestamptz[])))
            """
        var commonTables: PostgresQuery = """
            WITH crossing AS MATERIALIZED (
                SELECT DISTINCT unnest(crossing_sessions) AS session_id FROM filtered_breakdown_closed
                WHERE site_id = \(site) AND dimension = \(dimension.name) AND \(isPeriod)
            ), crossing_to_read AS MATERIALIZED (
                -- A long session (migrations/0014: one script's page views, up to millions) is read
                -- only when its stored quarters say it has page views of the filter in the range.
                SELECT session_id FROM crossing c
                WHERE NOT EXISTS (SELECT 1 FROM filtered_session_quarters q
                                  WHERE q.site_id = \(site) AND q.session_id = c.session_id AND q.filter = 0)
                   OR EXISTS (SELECT 1 FROM filtered_session_quarters q
                              WHERE q.site_id = \(site) AND q.session_id = c.session_id
                                AND q.filter = (\(filterNumber))
                                AND q.quarter >= date_bin('15 minutes', \(question.range.from)::timestamptz, 'epoch')
                                AND q.quarter < \(question.range.to))
            )
            """
        // The page views counted from the raw events: those outside the periods, and the crossing
        // sessions' in them (a few among the periods' events: in the range, not outside them).
        let inPeriods: PostgresQuery = """
            occurred_at >= \(question.range.from) AND occurred_at < \(question.range.to) AND NOT (\(outside))
            """
        let raw: PostgresQuery = """
            SELECT \(RawEventBreakdown.countedColumns(question)) FROM events
            WHERE site_id = \(site) AND (\(outside)) AND \(matches)
            UNION ALL
            \(Self.pageViews(ofSessionsIn: "crossing_to_read", where: inPeriods, matching: matches, question))
            """
        var partialDaySums: PostgresQuery = ""
        if !partialDays.isEmpty {
            // The partial days' sessions with page views outside the range (not crossing: all of
            // theirs lie in the day): what the day's sums count for them goes, and what they count
            // inside the range comes in.
            let inOutside = PostgresQuery.joined(partialDays.map { EventTimeCondition.within($0.outside) }, separator: " OR ")
            let inDays = PostgresQuery.joined(partialDays.map { EventTimeCondition.within(StatsRange(from: $0.day.start, to: $0.day.end)) },
                                              separator: " OR ")
            commonTables.append("""
                , outside_sessions AS MATERIALIZED (
                    SELECT DISTINCT session_id FROM events
                    WHERE site_id = \(site) AND (\(inOutside)) AND \(matches)
                      AND session_id NOT IN (SELECT session_id FROM crossing)
                ), outside_sessions_events AS MATERIALIZED (
                    \(Self.pageViews(ofSessionsIn: "outside_sessions", where: "(\(inDays))", matching: matches, question))
                )
                """)
            let inRange: PostgresQuery = """
                SELECT * FROM outside_sessions_events WHERE occurred_at >= \(question.range.from) AND occurred_at < \(question.range.to)
                """
            partialDaySums = """

                UNION ALL
                SELECT value, -pageviews, -visitors, -bounces, -duration_us
                FROM (\(RawEventBreakdown.sums(of: "SELECT * FROM outside_sessions_events", question))) AS counted_by_the_days
                UNION ALL
                SELECT * FROM (\(RawEventBreakdown.sums(of: inRange, question))) AS counted_in_the_range
                """
        }
        return """
            \(commonTables)
            SELECT value, sum(pageviews)::bigint AS pageviews, sum(visitors)::bigint AS visitors,
                   sum(bounces)::bigint AS bounces, sum(duration_us)::bigint AS duration_us
            FROM (
                SELECT * FROM (\(RawEventBreakdown.sums(of: raw, question))) AS counted_sums\(partialDaySums)
                UNION ALL
                SELECT v.value, u.pageviews, u.visitors, u.singles, u.duration_us
                FROM filtered_breakdowns d
                CROSS JOIN LATERAL unnest(d.value_ids, d.pageviews, d.visitors, d.singles, d.duration_us)
                    AS u (value_id, pageviews, visitors, singles, duration_us)
                JOIN stat_values v ON v.id = u.value_id
                WHERE d.site_id = \(site) AND d.dimension = \(dimension.name) AND \(isPeriod)
                  AND d.filter = (\(filterNumber))
            ) AS parts
            GROUP BY value
            -- A value only the subtracted sessions had.
            HAVING sum(pageviews) > 0
            """
    }

    /// The page views of each session the common table `sessions` names that meet `condition` (a
    /// time) and `matches` (the filter): session by session through `events_session_idx`, a nested
    /// loop whatever the planner guesses of their number. As a semi-join, it once guessed 94 of
    /// 20 000 sessions and compared every pair, for 50 s.
    private static func pageViews(ofSessionsIn sessions: String, where condition: PostgresQuery,
                                  matching matches: PostgresQuery, _ question: BreakdownQuestion) -> PostgresQuery {
        """
            SELECT e.* FROM \(unescaped: sessions) listed
            CROSS JOIN LATERAL (
                SELECT \(RawEventBreakdown.countedColumns(question)) FROM events
                WHERE site_id = \(question.siteID) AND hashtext(session_id) = hashtext(listed.session_id) AND session_id = listed.session_id
                  AND \(condition) AND \(matches)
            ) AS e
            """
    }
}
