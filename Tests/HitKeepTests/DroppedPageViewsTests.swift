import Testing
@testable import HitKeep

@Suite struct DroppedPageViewsTests {
    @Test func nothingCountedIsNeverDue() {
        #expect(DroppedPageViews().timeUntilDue() == nil)
    }

    @Test func theFirstDropIsDueAtOnce() {
        let dropped = DroppedPageViews()
        dropped.count(.bot, host: "example.com")
        #expect(dropped.timeUntilDue() == .zero)
    }

    @Test func aFloodOfMadeUpHostsIsCappedInMemory() {
        let dropped = DroppedPageViews()
        for number in 0..<(DroppedPageViews.maximumHosts * 3) {
            dropped.count(.unknownOrigin, host: "host\(number).example")
        }
        // Every page view counted, in no more keys than the cap (the rest for the instance).
        #expect(dropped.pending.count == DroppedPageViews.maximumHosts + 1)
        #expect(dropped.pending.values.reduce(0, +) == DroppedPageViews.maximumHosts * 3)
    }
}

@Suite struct ParentDomainTests {
    @Test func nearestFirst() {
        #expect(EventStore.parentDomains(of: "a.blog.example.com") == ["blog.example.com", "example.com", "com"])
        #expect(EventStore.parentDomains(of: "app.localhost") == ["localhost"])
        #expect(EventStore.parentDomains(of: "localhost").isEmpty)
    }
}
