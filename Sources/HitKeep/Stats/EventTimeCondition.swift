import Foundation
import PostgresClient

/// A site's events in a time range, as a condition that the events' index can narrow.
///
/// `events_site_hour_idx` keys the events by site and UTC hour, not by their time (migrations/0023:
/// one deduplicated entry per hour takes 7 bytes an event where one per event took 75). A condition
/// on `occurred_at` alone cannot use it, so each of these states the hours too, implied by the
/// times (an event's hour starts at or before it): the index reads the range's hours, the times
/// then pick the events exactly, and the time conditions keep pruning the partitions.
enum EventTimeCondition {
    /// `occurred_at` in `[from, to)`; `from` and `to` are bound values. (Columns would do for the
    /// result, not for the plan: the planner cannot see how few hours a column's values cover, and
    /// reads every event of the site.)
    static func from(_ from: PostgresQuery, to: PostgresQuery, column: String = "occurred_at") -> PostgresQuery {
        let hour = Self.hour(column)
        return """
            (\(unescaped: column) >= \(from)::timestamptz AND \(unescaped: column) < \(to)::timestamptz \
            AND \(hour) >= date_bin('1 hour', \(from)::timestamptz, 'epoch') AND \(hour) < \(to)::timestamptz)
            """
    }

    /// `occurred_at` in `[range.from, range.to)`.
    static func within(_ range: StatsRange) -> PostgresQuery {
        from("\(range.from)", to: "\(range.to)")
    }

    /// `occurred_at` in `range` but not in `inner`, a range inside it: its partial hours at both ends.
    /// An end where the two meet is left out: its empty range would still read an hour of the index.
    static func edges(of range: StatsRange, outside inner: StatsRange) -> PostgresQuery {
        let parts = [(range.from, inner.from), (inner.to, range.to)].filter { $0.0 < $0.1 }
        guard !parts.isEmpty else { return "false" }
        return "(\(PostgresQuery.joined(parts.map { from("\($0.0)", to: "\($0.1)") }, separator: " OR ")))"
    }

    /// `occurred_at` in `(after, through]`: the last minutes up to now.
    static func after(_ after: Date, through: Date) -> PostgresQuery {
        let hour = Self.hour("occurred_at")
        return """
            (occurred_at > \(after) AND occurred_at <= \(through) \
            AND \(hour) >= date_bin('1 hour', \(after)::timestamptz, 'epoch') AND \(hour) <= \(through)::timestamptz)
            """
    }

    /// The index's expression, which a condition must repeat to the letter for the planner to match it.
    private static func hour(_ column: String) -> PostgresQuery {
        "date_bin('1 hour', \(unescaped: column), 'epoch')"
    }
}
