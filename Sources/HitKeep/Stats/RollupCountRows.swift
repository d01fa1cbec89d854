import PostgresClient

/// The rows of the hourly and daily count tables (`dimension_counts`, `entry_exit_counts`,
/// `filtered_counts`, …) that a range of whole hours reads: its whole UTC days as days, the hours
/// before and after them as hours.
enum RollupCountRows {
    /// The condition on a count table that selects the rows of `inner`, a range of whole hours.
    static func spans(of inner: StatsRange, siteID: String) -> PostgresQuery {
        let days = inner.wholeDays
        return """
            site_id = \(siteID)
            AND ((span = 'day' AND bucket >= \(days.from) AND bucket < \(days.to))
                 OR (span = 'hour' AND ((bucket >= \(inner.from) AND bucket < \(days.from)) OR (bucket >= \(days.to) AND bucket < \(inner.to)))))
            """
    }

    /// `(list, value, n)` rows of 0004's tables over `inner`, not yet summed: page views per value of
    /// each event dimension, and sessions per entry and exit page. The caller sums them per list
    /// and value with whatever else it counts, in one hash aggregate. Summed per table first, the
    /// entry and exit rows were sorted to be grouped, the planner expecting far fewer of them (a
    /// 30-day range at ten million page views a month: the lists took 11–14 ms that way, 8.4 ms so).
    static func unfiltered(over inner: StatsRange, siteID: String) -> PostgresQuery {
        """
        \(unfilteredPageviews(over: inner, siteID: siteID))
        UNION ALL
        SELECT kind, path, sessions FROM entry_exit_counts
        WHERE \(spans(of: inner, siteID: siteID)) AND \(TopListSQL.sessionEnds(in: inner))
        """
    }

    /// `(list, value, n)` rows of `dimension_counts` over `inner`: page views per value of each
    /// event dimension.
    static func unfilteredPageviews(over inner: StatsRange, siteID: String) -> PostgresQuery {
        "SELECT dimension AS list, value, pageviews AS n FROM dimension_counts WHERE \(spans(of: inner, siteID: siteID))"
    }

    /// `(list, value, n)` of a table of page views per value as `value_ids` and `pageviews` arrays
    /// (`filtered_counts`, `quarter_counts`) over its rows that `condition` picks, summed per value
    /// and named through `stat_values`, whose dimension is the list.
    ///
    /// The arrays are unnested in the select list, two set-returning functions stepping together,
    /// not as `unnest(value_ids, pageviews)` in FROM: that form joins a function scan to every
    /// row, which stores each row's elements before returning them, and took twice as long (30 days
    /// of the 60 profiles of `device:desktop&os:Windows` at a million page views a month: 127 000
    /// elements, 30–50 ms against 18–20).
    static func numberedPageviews(in table: String, where condition: PostgresQuery) -> PostgresQuery {
        """
        SELECT v.dimension AS list, v.value, c.n
        FROM (SELECT id, sum(n) AS n
              FROM (SELECT unnest(value_ids) AS id, unnest(pageviews) AS n FROM \(unescaped: table) WHERE \(condition)) AS u
              GROUP BY id) AS c
        JOIN stat_values v ON v.id = c.id
        """
    }

    /// `(list, value, n)` of a table of sessions per entry or exit page as `path_ids` and `sessions`
    /// arrays (`filtered_session_ends`, `quarter_session_ends`) over its rows that `condition`
    /// picks, summed per kind and path; the kind is the list. Unnested as `numberedPageviews` says.
    static func numberedSessionEnds(in table: String, where condition: PostgresQuery) -> PostgresQuery {
        """
        SELECT c.kind, v.value, c.n
        FROM (SELECT kind, id, sum(n) AS n
              FROM (SELECT kind, unnest(path_ids) AS id, unnest(sessions) AS n FROM \(unescaped: table) WHERE \(condition)) AS u
              GROUP BY kind, id) AS c
        JOIN stat_values v ON v.id = c.id
        """
    }
}
