import Foundation
import PostgresClient

/// What the visits with page views of several matching visitor profiles change in the numbers that
/// the profiles' rollups add up (`VisitorProfiles`).
///
/// Each profile's rows count a session's page views of that profile as a visit of their own: a
/// session whose country changed on the way, under `device:desktop&os:Windows`, is two visits there,
/// each with its own bounce, duration, entry and exit page and chart buckets. Its page views, and so
/// every list of page views, are right. So the page views of those few sessions in the range are
/// read (found through the index on the hash of their ids) and each contributes the difference
/// between what it counts as one visit and what its profiles counted: where a range holding one
/// such session was read from its raw events before, seconds at ten million page views a month.
enum MixedSessionCorrection {
    /// The sessions of `VisitorProfiles.mixedSessions`, empty when there are none; when there are,
    /// the transaction is set up to read their page views, or `raw_events_removed` is thrown when
    /// those may be gone (`RawEventHorizon`).
    static func sessions(siteID: String, filters: [StatsFilter], range: StatsRange,
                         on database: any PostgresQuerying) throws -> [String] {
        let sessions = try database.query(VisitorProfiles.mixedSessions(siteID: siteID, in: range, matching: filters))
            .map { try $0.decode(String.self, "session_id") }
        guard !sessions.isEmpty else { return [] }
        try RawEventHorizon.check(range, siteID: siteID, on: database)
        // A long session's page views may be many: a plan made for the values at hand.
        try RawEventReading.configure(database, parallel: false)
        return sessions
    }

    /// The `sessions`' page views in `range` that match `filters`, with `columns` and each one's
    /// profile (`profile`), found through the index on the hash of their ids.
    private static func pageViews(_ columns: PostgresQuery, siteID: String, filters: [StatsFilter], range: StatsRange,
                                  sessions: [String]) -> PostgresQuery {
        """
        SELECT session_id, occurred_at, \(columns), \(profile)
        FROM events
        WHERE site_id = \(siteID) AND \(EventTimeCondition.within(range))\(StatsFilter.conditions(filters))
          AND hashtext(session_id) IN (SELECT hashtext(s) FROM unnest(\(sessions)::text[]) AS s)
          AND session_id = ANY (\(sessions)::text[])
        """
    }

    /// The columns that make a page view's profile.
    private static let profile = PostgresQuery.joined(VisitorProfiles.dimensions.map(\.columnSQL), separator: ", ")

    /// Nil when no session in `range` may have page views of two of the profiles `filters` match.
    /// `inner` is the whole hours whose entry and exit pages the lists read from the rollups (nil:
    /// none, or no lists are asked for).
    static func read(siteID: String, filters: [StatsFilter], range: StatsRange, inner: StatsRange?,
                     buckets: [ChartBucket], on database: any PostgresQuerying) throws -> StatsCorrection? {
        let sessions = try sessions(siteID: siteID, filters: filters, range: range, on: database)
        guard !sessions.isEmpty else { return nil }
        let isInner: PostgresQuery = inner.map { "occurred_at >= \($0.from) AND occurred_at < \($0.to)" } ?? "false"
        let columns: PostgresQuery = """
            id, path, '' AS value, width_bucket(occurred_at, \(buckets.map(\.start))::timestamptz[]) AS bucket,
            \(isInner) AS inner_hour
            """
        var statement: PostgresQuery = """
            WITH e AS MATERIALIZED (\(pageViews(columns, siteID: siteID, filters: filters, range: range, sessions: sessions)))
            SELECT 'total' AS part, '' AS name, visitors::bigint AS sessions, bounces::bigint, duration_us::bigint
            FROM (\(differences)) AS totals
            UNION ALL
            SELECT 'chart', bucket::text, count(DISTINCT session_id) - count(DISTINCT (session_id, \(profile))), 0, 0
            FROM e GROUP BY bucket
            """
        // Per session, one entry (exit) page of its matching page views in the whole hours, in place
        // of one per profile.
        for dimension in StatsDimension.lists {
            guard let order = dimension.sessionEndOrder else { continue }
            statement.append("""

                UNION ALL
                SELECT \(dimension.nameLiteral), value, sum(n)::bigint, 0, 0 FROM (
                    (SELECT DISTINCT ON (session_id) \(dimension.columnSQL) AS value, 1 AS n
                     FROM e WHERE inner_hour ORDER BY session_id, \(order))
                    UNION ALL
                    (SELECT DISTINCT ON (session_id, \(profile)) \(dimension.columnSQL), -1
                     FROM e WHERE inner_hour ORDER BY session_id, \(profile), \(order))
                ) AS ends
                GROUP BY value HAVING sum(n) <> 0
                """)
        }
        var correction = StatsCorrection()
        for row in try database.query(statement) {
            let part = try row.decode(String.self, "part")
            let sessions = try row.decode(Int.self, "sessions")
            switch part {
            case "total":
                correction.totals = StatsTotals(pageviews: 0, sessions: sessions, bounces: try row.decode(Int.self, "bounces"),
                                                durationMicroseconds: try row.decode(Int.self, "duration_us"))
            case "chart":
                // width_bucket numbers the buckets from 1.
                let bucket = try row.decode(Int.self, "name")
                if bucket >= 1, sessions != 0 { correction.chart[bucket - 1] = (0, sessions) }
            default:
                correction.sessionEnds.append((part, try row.decode(String.self, "name"), sessions))
            }
        }
        return correction
    }

    /// `(value, pageviews, visitors, bounces, duration_us)` to add to the breakdown by
    /// `question.dimension` (one of the profile's) that the matching profiles' rows give: a session
    /// with page views of a value under two of its profiles is one visitor of that value, not two.
    static func breakdownSums(_ question: BreakdownQuestion, sessions: [String]) -> PostgresQuery {
        """
        WITH e AS MATERIALIZED (\(pageViews("\(question.dimension.columnSQL) AS value", siteID: question.siteID,
                                            filters: question.filters, range: question.range, sessions: sessions)))
        SELECT value, 0::bigint AS pageviews, visitors::bigint, bounces::bigint, duration_us::bigint
        FROM (\(differences)) AS corrections
        """
    }

    /// `(value, visitors, bounces, duration_us)` per `value` of the page views `e` holds (columns
    /// `session_id`, `occurred_at`, `value` and the profile's): what each session counts as one
    /// visit of the value less what its profiles' rows counted, a visit for each profile.
    private static let differences: PostgresQuery = """
        SELECT value, sum(visitors) AS visitors, sum(bounces) AS bounces, sum(duration_us) AS duration_us
        FROM (SELECT value, 1 AS visitors, (count(*) = 1)::integer AS bounces,
                     \(DurationSQL.microseconds("max(occurred_at) - min(occurred_at)")) AS duration_us
              FROM e GROUP BY session_id, value
              UNION ALL
              SELECT value, -1, -(count(*) = 1)::integer,
                     -\(DurationSQL.microseconds("max(occurred_at) - min(occurred_at)"))
              FROM e GROUP BY session_id, value, \(profile)) AS visits
        GROUP BY value
        """
}
