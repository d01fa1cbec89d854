import Testing
@testable import HitKeep

@Suite struct ProcessorTimesTests {
    @Test func idleAndIOWaitCountAsIdleAndGuestTimeIsNotCountedTwice() throws {
        let times = try #require(ProcessorTimes(statLine: "cpu  100 5 50 800 20 3 2 0 40 0"))
        #expect(times == ProcessorTimes(idle: 820, total: 980))
    }

    @Test func olderKernelsWithFewerFieldsStillRead() throws {
        let times = try #require(ProcessorTimes(statLine: "cpu 10 0 10 80"))
        #expect(times == ProcessorTimes(idle: 80, total: 100))
    }

    @Test func otherLinesAndGarbageAreRefused() {
        #expect(ProcessorTimes(statLine: "cpu0 1 2 3 4 5") == nil)
        #expect(ProcessorTimes(statLine: "cpu 1 2 x 4 5") == nil)
        #expect(ProcessorTimes(statLine: "cpu 1 2") == nil)
    }

    @Test func theIdleShareIsOfTheTicksBetweenTwoReadings() {
        let earlier = ProcessorTimes(idle: 1_000, total: 2_000)
        #expect(ProcessorTimes(idle: 1_150, total: 2_200).idleShare(since: earlier) == 0.75)
        #expect(ProcessorTimes(idle: 1_000, total: 2_200).idleShare(since: earlier) == 0)
        // No tick passed, or a counter went backwards: nothing says the host is idle.
        #expect(earlier.idleShare(since: earlier) == 0)
        #expect(ProcessorTimes(idle: 900, total: 2_100).idleShare(since: earlier) == 0)
    }

    @Test func thisHostReadsOnLinux() {
        #if os(Linux)
        let times = ProcessorTimes.current()
        #expect(times != nil)
        #expect((times?.total ?? 0) >= (times?.idle ?? 1))
        #endif
    }
}
