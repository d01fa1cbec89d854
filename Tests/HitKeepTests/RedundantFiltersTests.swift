import Testing
@testable import HitKeep

/// Which filters `RedundantFilters` keeps, given what the rollups counted (the counting itself is
/// tested against PostgreSQL in Tests/Integration/test_redundant_filters.py).
@Suite struct RedundantFiltersTests {
    static let path = StatsFilter(dimension: .path, value: "/a")
    static let otherPath = StatsFilter(dimension: .path, value: "/b")
    static let source = StatsFilter(dimension: StatsDimension.filter(named: "utm_source")!, value: "newsletter")
    static let medium = StatsFilter(dimension: StatsDimension.filter(named: "utm_medium")!, value: "email")
    static let host = StatsFilter(dimension: StatsDimension.filter(named: "hostname")!, value: "")

    @Test func leavesOutAFilterEveryPageViewMatches() {
        let counts = RedundantFilters.Counts(all: 100, pageviews: [0: 40, 1: 100], together: [0: [1: 40], 1: [0: 40]])
        #expect(RedundantFilters.kept([Self.path, Self.host], given: counts) == [0])
    }

    @Test func leavesOutAFilterImpliedByAnotherAndKeepsOneOfTwoThatImplyEachOther() {
        // Every newsletter page view is an email one, not every email one the newsletter's.
        let implied = RedundantFilters.Counts(all: 100, pageviews: [0: 30, 1: 50], together: [0: [1: 30], 1: [0: 30]])
        #expect(RedundantFilters.kept([Self.source, Self.medium], given: implied) == [0])
        let swapped = RedundantFilters.Counts(all: 100, pageviews: [0: 50, 1: 30], together: [0: [1: 30], 1: [0: 30]])
        #expect(RedundantFilters.kept([Self.medium, Self.source], given: swapped) == [1])
        // The same page views: one of the two stands for both.
        let same = RedundantFilters.Counts(all: 100, pageviews: [0: 30, 1: 30], together: [0: [1: 30], 1: [0: 30]])
        #expect(RedundantFilters.kept([Self.source, Self.medium], given: same)?.count == 1)
    }

    @Test func keepsFiltersThatEachSelectPartOfTheOther() {
        let counts = RedundantFilters.Counts(all: 100, pageviews: [0: 40, 1: 50], together: [0: [1: 10], 1: [0: 10]])
        #expect(RedundantFilters.kept([Self.path, Self.medium], given: counts) == [0, 1])
    }

    @Test func findsNothingWhenAFilterOrAPairMatchesNoPageView() {
        let empty = RedundantFilters.Counts(all: 100, pageviews: [0: 0, 1: 50], together: [:])
        #expect(RedundantFilters.kept([Self.path, Self.medium], given: empty) == nil)
        let disjoint = RedundantFilters.Counts(all: 100, pageviews: [0: 40, 1: 50], together: [:])
        #expect(RedundantFilters.kept([Self.path, Self.medium], given: disjoint) == nil)
        // Two values of one dimension: the rollups count no such pair, and no page view has both.
        let twoPaths = RedundantFilters.Counts(all: 100, pageviews: [0: 40, 1: 50], together: [:])
        #expect(RedundantFilters.kept([Self.path, Self.otherPath], given: twoPaths) == nil)
        // The same filter twice is one filter.
        let twice = RedundantFilters.Counts(all: 100, pageviews: [0: 40, 1: 40], together: [:])
        #expect(RedundantFilters.kept([Self.path, Self.path], given: twice)?.count == 1)
    }

    @Test func callsFiltersSelectiveWhenTheyHoldFewOfThePageViewsTogether() {
        // Two filters: what they hold together, against one page view in 200.
        let rare = RedundantFilters.Counts(all: 20_000, pageviews: [0: 4_000, 1: 9_000], together: [0: [1: 100], 1: [0: 100]])
        #expect(RedundantFilters.isSelective([0, 1], given: rare))
        let common = RedundantFilters.Counts(all: 20_000, pageviews: [0: 4_000, 1: 9_000], together: [0: [1: 101], 1: [0: 101]])
        #expect(!RedundantFilters.isSelective([0, 1], given: common))
        // One filter the index holds (the other is on an empty value): its own page views.
        #expect(!RedundantFilters.isSelective([0], given: rare))
        #expect(RedundantFilters.isSelective([0], given: RedundantFilters.Counts(all: 20_000, pageviews: [0: 100])))
        #expect(!RedundantFilters.isSelective([], given: rare))
    }

    @Test func estimatesThreeFiltersFromTheirPairs() {
        // Filter 0's 1 000 page views: a fifth with filter 1, a tenth with filter 2, so about 20 with
        // both, though each pair holds more than one page view in 200.
        let counts = RedundantFilters.Counts(all: 10_000, pageviews: [0: 1_000, 1: 3_000, 2: 2_000],
                                             together: [0: [1: 200, 2: 100], 1: [0: 200, 2: 900], 2: [0: 100, 1: 900]])
        #expect(RedundantFilters.isSelective([0, 1, 2], given: counts))
        #expect(!RedundantFilters.isSelective([1, 2], given: counts))
    }
}
