import Testing
@testable import Scoreboard

private let routes = [RouteLabel(method: "", pattern: "unmatched")]

@Suite struct QuotaLeasesTests {
    @Test func spendsWhatWasCreditedAndNoMore() {
        let leases = QuotaLeases(board: Scoreboard.detached(routes: routes))
        let entry = leases.entry(for: "01CLIENT", window: 100)!
        #expect(entry.spend(window: 100) == .empty)
        entry.credit(2, window: 100)
        entry.recordTaken(3, window: 100)
        #expect(entry.spend(window: 100) == .spent(left: 1))
        #expect(entry.spend(window: 100) == .spent(left: 0))
        #expect(entry.spend(window: 100) == .empty)
        #expect(entry.taken(window: 100) == 3)
        // The same key finds the same entry, as another worker of the pool would.
        let again = leases.entry(for: "01CLIENT", window: 100)!
        #expect(again.words == entry.words)
    }

    @Test func aNewWindowStartsEmptyAndAnOldLeaseIsDropped() {
        let leases = QuotaLeases(board: Scoreboard.detached(routes: routes))
        let entry = leases.entry(for: "01CLIENT", window: 7)!
        entry.credit(5, window: 7)
        #expect(entry.spend(window: 8) == .empty)
        entry.credit(3, window: 8)
        entry.credit(9, window: 7)          // a lease for the minute that is over
        #expect(entry.left(window: 8) == 3)
        #expect(entry.taken(window: 8) == 0)
    }

    @Test func anExhaustedWindowRefusesOnceItsPotIsSpent() {
        let leases = QuotaLeases(board: Scoreboard.detached(routes: routes))
        let entry = leases.entry(for: "01CLIENT", window: 1)!
        entry.credit(1, window: 1)
        entry.exhaust(window: 1)
        #expect(entry.spend(window: 1) == .spent(left: 0))
        #expect(entry.spend(window: 1) == .exhausted)
        #expect(entry.spend(window: 2) == .empty)
    }

    @Test func keysDoNotShareEntries() {
        let leases = QuotaLeases(board: Scoreboard.detached(routes: routes))
        let first = leases.entry(for: "01FIRST", window: 1)!
        let second = leases.entry(for: "01SECOND", window: 1)!
        first.credit(4, window: 1)
        #expect(second.spend(window: 1) == .empty)
        #expect(first.left(window: 1) == 4)
    }
}

@Suite struct UsageCountersTests {
    @Test func countsPerKeyDayAndCounterAndDrainsOnce() {
        let counters = UsageCounters(board: Scoreboard.detached(routes: routes))
        for _ in 0..<3 { counters.add(key: "01CLIENT", day: 20_000, counter: 0) }
        counters.add(key: "01CLIENT", day: 20_000, counter: 7)
        counters.add(key: "01OTHER", day: 20_000, counter: 7, amount: 5)
        let drained = counters.drain(oldestLiveDay: 19_999)
        let byKey = Dictionary(uniqueKeysWithValues: drained.map { ($0.key, $0.counts.map { [$0.counter, Int($0.count)] }) })
        #expect(byKey == ["01CLIENT": [[0, 3], [7, 1]], "01OTHER": [[7, 5]]])
        #expect(counters.drain(oldestLiveDay: 19_999).isEmpty)
    }

    @Test func restoredCountsComeBackAtTheNextDrain() {
        let counters = UsageCounters(board: Scoreboard.detached(routes: routes))
        counters.add(key: "01CLIENT", day: 5, counter: 2, amount: 4)
        counters.restore(counters.drain(oldestLiveDay: 5))
        #expect(counters.drain(oldestLiveDay: 5).map { $0.counts.map(\.count) } == [[4]])
    }
}
