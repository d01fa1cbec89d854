import Foundation
import Scoreboard

/// Counts each request an API client's token made, as it is answered, in the pool's shared memory:
/// an atomic add, no database statement. The roll-up process drains the counts into the database
/// about once a second (`ClientUsageStore.drain`), so a worker killed with kill -9 loses nothing it
/// counted, and a whole pool stopped at most the last second.
final class ClientUsageRecorder {
    private let counters: UsageCounters
    /// The endpoint group of each route, by its position in the router.
    private let groups: [EndpointGroup]

    init(board: Scoreboard, routes: [String]) {
        counters = UsageCounters(board: board)
        groups = routes.map(EndpointGroup.init(pattern:))
        precondition(UsageCounter.count == UsageCounters.counterCount, "the scoreboard has a counter per group and class")
    }

    var table: UsageCounters { counters }

    func count(clientID: String, route: Int?, status: Int, at now: Date) {
        let group = route.map { groups[$0] } ?? .other
        counters.add(key: clientID, day: Self.day(of: now), counter: UsageCounter.index(group, StatusClass(status: status)))
    }

    /// Days since 1970-01-01 in UTC.
    static func day(of date: Date) -> UInt64 {
        UInt64(max(date.timeIntervalSince1970, 0) / 86_400)
    }
}
