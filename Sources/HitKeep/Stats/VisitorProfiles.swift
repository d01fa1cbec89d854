import PostgresClient

/// Visitor profiles (migrations/0024): a page view's device, browser, os, country and language
/// together, a filter dimension of the filtered rollups. Filters on those five dimensions alone
/// select the page views of a set of profiles, which the rollups answer by adding the profiles'
/// rows up, and correcting the few sessions in the range with page views of two of those profiles
/// (`MixedSessionCorrection`).
enum VisitorProfiles {
    /// The dimensions of a profile, in the order of its JSON array (`visitor_profile`).
    static let dimensions: [StatsDimension] = [.device, .browser, .os, .country, .language]

    /// Whether every filter is on a profile's dimension.
    static func cover(_ filters: [StatsFilter]) -> Bool {
        filters.allSatisfy { dimensions.contains($0.dimension) }
    }

    /// The rollup filter numbers of the profiles whose values match every filter. Two filters on
    /// one dimension with different values match none.
    static func ids(matching filters: [StatsFilter], on database: any PostgresQuerying) throws -> [Int] {
        try database.query("\(numbers(matching: filters)) ORDER BY id").map { try $0.decode(Int.self, "id") }
    }

    /// `SELECT id` of the profiles whose values match every filter.
    static func numbers(matching filters: [StatsFilter]) -> PostgresQuery {
        var conditions = PostgresQuery(unescaped: "")
        for filter in filters {
            // The element's position is the registry's, never the client's.
            let position = dimensions.firstIndex(of: filter.dimension)!
            conditions.append(" AND (value::json ->> \(unescaped: String(position))) = \(filter.value)")
        }
        return "SELECT id FROM stat_values WHERE dimension = 'profile'\(conditions)"
    }

    /// The long sessions (migrations/0014) with page views in `range`, a row per session and
    /// stored quarter: their stored quarters' profile rows, which the partial indexes of 0034 hold
    /// (the profile's dimension, 12, is written into the statement so that they apply to every plan).
    static func longSessions(siteID: String, in range: StatsRange) -> PostgresQuery {
        """
        SELECT session_id FROM filtered_session_quarters
        WHERE site_id = \(siteID) AND dimension = 12
          AND quarter >= date_bin('15 minutes', \(range.from)::timestamptz, 'epoch') AND quarter < \(range.to)
        """
    }

    /// `SELECT session_id` of the sessions that may have page views of more than one of the
    /// profiles that match `filters` in the range: the rollups count such a session once per
    /// matching profile. A session's page views of one matching profile are what that profile's rows
    /// count of it, and its other profiles' are not asked about, so only a second matching profile
    /// makes a difference. A short session's profiles per quarter are in `mixed_session_quarters`
    /// (0044), a long one's in its stored quarters (0034): a visit whose country changed on the way,
    /// or one script's session that also sent page views as another system. A long session is
    /// named when two of its profiles match anywhere in it, so some named sessions may have page
    /// views of one of them alone in the range.
    static func mixedSessions(siteID: String, in range: StatsRange, matching filters: [StatsFilter]) -> PostgresQuery {
        """
        WITH matching AS MATERIALIZED (\(numbers(matching: filters)))
        SELECT m.session_id FROM mixed_session_quarters m
        WHERE m.site_id = \(siteID) AND m.profile IN (SELECT id FROM matching)
          AND m.quarter >= \(range.from) AND m.quarter < \(range.to) AND m.pageviews > 0
        GROUP BY m.session_id
        HAVING count(DISTINCT m.profile) > 1
        UNION
        SELECT long_sessions.session_id
        FROM (SELECT DISTINCT session_id FROM (\(longSessions(siteID: siteID, in: range))) AS held) AS long_sessions
        WHERE (SELECT count(DISTINCT filter) FROM filtered_session_quarters q
               WHERE q.site_id = \(siteID) AND q.session_id = long_sessions.session_id
                 AND q.dimension = 12 AND q.filter IN (SELECT id FROM matching)) > 1
        """
    }
}
