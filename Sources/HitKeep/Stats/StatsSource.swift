import PostgresClient

/// Where a period's numbers come from: the rollups, or the raw events. Both give the same numbers
/// for the same question (docs/API.md §10.3's definitions); they differ in what they can answer fast.
protocol StatsSource {
    /// The period's numbers; top lists of `limit` entries, or none when `limit` is nil (comparisons).
    func period(_ range: StatsRange, buckets: [ChartBucket], limit: Int?) throws -> StatsPeriod
}

extension StatsSource {
    /// Ranks `(list, name, count)` rows already limited and ordered by the query.
    static func topLists(from rows: PostgresRows) throws -> TopLists {
        var lists: TopLists = [:]
        for row in rows {
            lists[try row.decode(String.self, "list"), default: []].append(
                RankedValue(name: try row.decode(String.self, "name"), value: try row.decode(Int.self, "n")))
        }
        return lists
    }

    /// `(start, pageviews, visitors)` rows in bucket order, matched back to the buckets.
    static func points(_ buckets: [ChartBucket], from rows: PostgresRows) throws -> [ChartPoint] {
        var points: [ChartPoint] = []
        points.reserveCapacity(buckets.count)
        for (bucket, row) in zip(buckets, rows) {
            points.append(ChartPoint(bucket: bucket, pageviews: try row.decode(Int.self, "pageviews"),
                                     visitors: try row.decode(Int.self, "visitors")))
        }
        return points
    }
}

/// The SQL that turns `(list, name, n)` counts into each list's top `limit`: by count, then by name
/// in byte order (so that ties read the same on every database), empty values named `(none)`, or by
/// the site's domain in the lists whose empty value stands for it (`StatsDimension.Empty`).
enum TopListSQL {
    static func ranked(_ counts: PostgresQuery, limit: Int, siteID: String) -> PostgresQuery {
        """
        SELECT list, name, n, rank FROM (
            SELECT list, name, n, row_number() OVER (PARTITION BY list ORDER BY n DESC, name COLLATE "C") AS rank
            FROM (SELECT list, CASE WHEN value = '' THEN \(emptyName(siteID: siteID)) ELSE value END AS name, n
                  FROM (\(counts)) AS counts WHERE n > 0) AS named
        ) AS ranked
        WHERE rank <= \(limit)
        ORDER BY list, rank
        """
    }

    /// The name of a `list`'s empty value, as SQL.
    private static func emptyName(siteID: String) -> PostgresQuery {
        let domainLists = StatsDimension.lists.filter { $0.empty == .siteDomain }
        guard !domainLists.isEmpty else { return "\(StatsFilter.noneName)::text" }
        let lists = PostgresQuery.joined(domainLists.map(\.nameLiteral), separator: ", ")
        return "CASE WHEN list IN (\(lists)) THEN (SELECT domain FROM sites WHERE id = \(siteID)) ELSE \(StatsFilter.noneName)::text END"
    }

    /// `(list, value, n)` that move each session of `sessions` (a `FROM` list) from the entry and
    /// exit page the whole hours' rollups counted for it (`countedEntry`, `countedExit`; NULL when
    /// they counted none) to its entry and exit page in the full range (`entry`, `exit`).
    static func sessionEndChanges(of sessions: PostgresQuery, entry: PostgresQuery, countedEntry: PostgresQuery,
                                  exit: PostgresQuery, countedExit: PostgresQuery) -> PostgresQuery {
        """
        SELECT x.list, x.value, sum(x.n) FROM \(sessions)
        CROSS JOIN LATERAL (VALUES (\(StatsDimension.entry.nameLiteral), \(entry), 1), (\(StatsDimension.entry.nameLiteral), \(countedEntry), -1),
                                   (\(StatsDimension.exit.nameLiteral), \(exit), 1), (\(StatsDimension.exit.nameLiteral), \(countedExit), -1))
            AS x (list, value, n)
        WHERE x.value IS NOT NULL
        GROUP BY 1, 2
        """
    }

    /// Page views per value of each listed event dimension (`StatsDimension.eventLists`), as
    /// `(list, value, n)`, over `source` (a table or CTE with the event columns) filtered by
    /// `condition`: one pass, one grouping set per list, except for the lists of `visitColumns`,
    /// which share one set and are added up per list from its few combinations.
    static func eventDimensions(from source: String, where condition: PostgresQuery) -> PostgresQuery {
        return """
            SELECT x.list, x.value, sum(g.n)::bigint AS n
            FROM (SELECT \(eventColumns), count(*) AS n FROM \(unescaped: source) WHERE \(condition)
                  GROUP BY GROUPING SETS (\(eventDimensionSets))) AS g
            CROSS JOIN LATERAL \(eventDimensionValues(of: "g"))
            WHERE x.value IS NOT NULL
            GROUP BY 1, 2
            """
    }

    /// The columns of the listed event dimensions (`StatsDimension.eventLists`), in their order.
    static var eventColumns: PostgresQuery {
        PostgresQuery.joined(StatsDimension.eventLists.map(\.columnSQL), separator: ", ")
    }

    /// The grouping sets that count the page views of every listed event dimension: `visitColumns`
    /// a set each, every other column one of its own.
    static var eventDimensionSets: PostgresQuery {
        let dimensions = StatsDimension.eventLists
        let together = visitColumns.map { group in group.filter(dimensions.contains) }.filter { !$0.isEmpty }
        let alone = dimensions.filter { dimension in !together.contains { $0.contains(dimension) } }
        return PostgresQuery.joined((together + alone.map { [$0] }).map { set in
            "(\(PostgresQuery.joined(set.map(\.columnSQL), separator: ", ")))"
        }, separator: ", ")
    }

    /// `(VALUES …) AS x (list, value)`: a row of `eventDimensionSets`' counts (the relation
    /// `grouped`) as one `(list, value)` per event dimension. A set leaves the columns it does not
    /// group NULL, and no event column is: a value that is there belongs to the list.
    static func eventDimensionValues(of grouped: String) -> PostgresQuery {
        let lists = PostgresQuery.joined(StatsDimension.eventLists.map {
            "(\($0.nameLiteral), \(unescaped: grouped).\($0.columnSQL))"
        }, separator: ", ")
        return "(VALUES \(lists)) AS x (list, value)"
    }

    /// Event columns that take few combinations of values together, because they describe the
    /// visit rather than the page: a visitor's profile, a campaign's link. Grouping each such set
    /// once fills five hash tables per page view rather than eleven, which is a third of the lists'
    /// time over the raw events (461 000 page views: 510 → 330 ms).
    static let visitColumns: [[StatsDimension]] = [
        VisitorProfiles.dimensions,
        [.utmSource, .utmMedium, .utmCampaign],
    ]

    /// The columns of `events` that some dimension reads, each once, for a CTE of matching events.
    static var dimensionColumns: PostgresQuery {
        var seen: Set<String> = []
        let columns = StatsDimension.all.map(\.column).filter { seen.insert($0).inserted }
        return PostgresQuery.joined(columns.map { PostgresQuery(unescaped: $0) }, separator: ", ")
    }

    /// The rows of `entry_exit_counts` that hold the entry and exit pages of the sessions in `range`:
    /// an entry row counts sessions whose previous active hour lies before `from`, an exit row those
    /// whose next one lies at or after `to` (migrations/0004). Their `kind` is the dimension's name.
    static func sessionEnds(in range: StatsRange) -> PostgresQuery {
        let conditions: [PostgresQuery] = StatsDimension.lists.compactMap { dimension in
            switch dimension.source {
            case .event: nil
            case .sessionEntry: "(kind = \(dimension.nameLiteral) AND boundary < \(range.from))"
            case .sessionExit: "(kind = \(dimension.nameLiteral) AND boundary >= \(range.to))"
            }
        }
        return "(\(PostgresQuery.joined(conditions, separator: " OR ")))"
    }
}
