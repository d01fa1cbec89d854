import Foundation
import PostgresClient
import Scoreboard
import TextFormats

/// Requests per client per day in the database (`api_client_usage`), and the answers of the usage
/// endpoints.
public enum ClientUsageStore {
    /// Usage is kept this long (the issue asks for at least 90 days).
    static let retentionDays = 400
    /// The longest range one usage request may ask for.
    static let maximumRangeDays = 400

    /// Moves what the pool's workers counted into the database in one statement; a failed statement
    /// puts the counts back for the next drain. Clients deleted meanwhile are dropped.
    public static func drain(_ counters: UsageCounters, now: Date, on database: some PostgresQuerying) throws {
        let today = ClientUsageRecorder.day(of: now)
        let drained = counters.drain(oldestLiveDay: today - 1)
        guard !drained.isEmpty else { return }
        var clients: [String] = [], days: [Int] = [], groups: [String] = [], classes: [String] = [], counts: [Int] = []
        for entry in drained {
            for (counter, count) in entry.counts {
                let (group, status) = UsageCounter.parts(of: counter)
                clients.append(entry.key)
                days.append(Int(entry.day))
                groups.append(group.name)
                classes.append(status.name)
                counts.append(Int(count))
            }
        }
        do {
            try database.query("""
                INSERT INTO api_client_usage AS u (client_id, day, endpoint_group, status_class, requests)
                SELECT n.client_id, date '1970-01-01' + n.day::int, n.endpoint_group, n.status_class, sum(n.requests)
                FROM unnest(\(clients)::text[], \(days)::int8[], \(groups)::text[], \(classes)::text[], \(counts)::int8[])
                     AS n (client_id, day, endpoint_group, status_class, requests)
                JOIN api_clients c ON c.id = n.client_id
                GROUP BY 1, 2, 3, 4
                ON CONFLICT (client_id, day, endpoint_group, status_class) DO UPDATE SET requests = u.requests + excluded.requests
                """)
        } catch {
            counters.restore(drained)
            throw error
        }
    }

    /// Forgets usage older than the retention.
    static func purge(now: Date, on database: some PostgresQuerying) throws {
        let cutoff = Int(ClientUsageRecorder.day(of: now)) - retentionDays
        try database.query("DELETE FROM api_client_usage WHERE day < date '1970-01-01' + \(cutoff)::int")
    }

    /// The client's usage from `from` to `to` (UTC days, both included): one entry per day of the
    /// range, zeros included, with the total, the counts by status class and by endpoint group, and
    /// each group's counts by class.
    static func daily(clientID: String, from: CivilDate, to: CivilDate, on database: some PostgresQuerying) throws -> JSON {
        let rows = try database.query("""
            SELECT (day - date '1970-01-01') AS day, endpoint_group, status_class, requests
            FROM api_client_usage
            WHERE client_id = \(clientID) AND day BETWEEN date '1970-01-01' + \(Int(from.daysSinceEpoch))::int
                                                  AND date '1970-01-01' + \(Int(to.daysSinceEpoch))::int
            """)
        var byDay: [Int64: [Int: Int]] = [:]
        for row in rows {
            let day = Int64(try row.decode(Int.self, "day"))
            guard let group = EndpointGroup(rawValue: try row.decode(String.self, "endpoint_group")),
                  let status = StatusClass(rawValue: try row.decode(String.self, "status_class"))
            else { continue }
            byDay[day, default: [:]][UsageCounter.index(group, status), default: 0] += try row.decode(Int.self, "requests")
        }
        var days: [JSON] = []
        var totals = [Int](repeating: 0, count: UsageCounter.count)
        for day in from.daysSinceEpoch...to.daysSinceEpoch {
            let counts = byDay[day] ?? [:]
            for (index, count) in counts { totals[index] += count }
            days.append(.object([("date", .string(CivilDate(daysSinceEpoch: day).isoText))] + breakdown(counts)))
        }
        let summed = Dictionary(uniqueKeysWithValues: totals.enumerated().map { ($0.offset, $0.element) })
        return .object([("client_id", .string(clientID)), ("from", .string(from.isoText)), ("to", .string(to.isoText)),
                        ("totals", .object(breakdown(summed))), ("days", .array(days))])
    }

    /// `requests`, `by_status`, `by_group` and `by_group_and_status` of a set of counters.
    private static func breakdown(_ counts: [Int: Int]) -> [(String, JSON)] {
        func sum(_ include: (EndpointGroup, StatusClass) -> Bool) -> Int {
            counts.reduce(0) { total, entry in
                let (group, status) = UsageCounter.parts(of: entry.key)
                return include(group, status) ? total + entry.value : total
            }
        }
        return [
            ("requests", .int(sum { _, _ in true })),
            ("by_status", .object(StatusClass.allCases.map { status in (status.name, .int(sum { $1 == status })) })),
            ("by_group", .object(EndpointGroup.allCases.map { group in (group.name, .int(sum { g, _ in g == group })) })),
            ("by_group_and_status", .object(EndpointGroup.allCases.map { group in
                (group.name, .object(StatusClass.allCases.map { status in (status.name, .int(sum { $0 == group && $1 == status })) }))
            })),
        ]
    }
}
