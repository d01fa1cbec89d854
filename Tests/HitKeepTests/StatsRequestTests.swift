import Foundation
import Testing
@testable import HitKeep

@Suite struct StatsRequestTests {
    private func parse(_ query: String) throws -> StatsRequest {
        try StatsRequest(try #require(QueryParameters(parsing: query)))
    }

    @Test func defaults() throws {
        let request = try parse("")
        #expect(request == StatsRequest(compare: true, limit: 10))
    }

    @Test func readsEveryParameter() throws {
        let request = try parse("from=2026-10-01&to=2026-10-31T12:00:00%2B02:00&timezone=Europe/Berlin&interval=week"
                                + "&filter=path:/pricing&filter=utm_source:news&compare=none&limit=25")
        #expect(request.from == .date("2026-10-01"))
        #expect(request.to == .instant(Date(timeIntervalSince1970: 1_793_440_800)))
        #expect(request.timezone == "Europe/Berlin")
        #expect(request.interval == .week)
        #expect(request.filters == [StatsFilter(dimension: .path, value: "/pricing"),
                                    StatsFilter(dimension: .utmSource, value: "news")])
        #expect(request.compare == false)
        #expect(request.limit == 25)
    }

    @Test(arguments: [
        ("from=2026-02-30", "invalid_date"), ("from=2026-13-01", "invalid_date"), ("to=yesterday", "invalid_date"),
        ("from=2026-1-1", "invalid_date"), ("to=2026-10-01T25:00:00Z", "invalid_date"), ("from=1969-12-31", "invalid_date"),
        ("timezone=Mars/Olympus", "invalid_timezone"), ("timezone=../etc/passwd", "invalid_timezone"),
        ("interval=minute", "invalid_interval"), ("filter=city:Berlin", "invalid_filter"), ("filter=path", "invalid_filter"),
        ("filter=path:", "invalid_filter"), ("compare=last_year", "invalid_compare"), ("limit=0", "invalid_limit"),
        ("limit=1000", "invalid_limit"), ("limit=ten", "invalid_limit"), ("limit=101", "invalid_limit"),
    ])
    func refusesBadParameters(_ query: String, _ code: String) {
        #expect(throws: DomainError.self) { try parse(query) }
        do { _ = try parse(query) } catch let refusal as DomainError { #expect(refusal.code == code) } catch { Issue.record("\(error)") }
    }

    @Test func leapDays() throws {
        #expect(try StatsRequest.bound("2024-02-29", name: "from") == .date("2024-02-29"))
        #expect(try StatsRequest.bound("2000-02-29", name: "from") == .date("2000-02-29"))
        #expect(throws: DomainError.self) { try StatsRequest.bound("2026-02-29", name: "from") }
        #expect(throws: DomainError.self) { try StatsRequest.bound("2100-02-29", name: "from") }
    }

    @Test func noneFiltersMatchEmptyValues() throws {
        #expect(try StatsFilter.parse("referrer:(none)") == StatsFilter(dimension: .referrer, value: ""))
        // Only the first colon separates: values may hold colons.
        #expect(try StatsFilter.parse("path:/a:b") == StatsFilter(dimension: .path, value: "/a:b"))
    }
}

@Suite struct StatsRangeTests {
    let hour: TimeInterval = 3600

    @Test func defaultIntervals() {
        #expect(StatsInterval.defaultFor(seconds: 2 * 86_400) == .hour)
        #expect(StatsInterval.defaultFor(seconds: 2 * 86_400 + 1) == .day)
        #expect(StatsInterval.defaultFor(seconds: 364 * 86_400) == .day)
        #expect(StatsInterval.defaultFor(seconds: 365 * 86_400) == .month)
    }

    @Test func previousPeriodHasEqualLength() {
        let range = StatsRange(from: Date(timeIntervalSince1970: 10 * hour), to: Date(timeIntervalSince1970: 15 * hour))
        #expect(range.previous == StatsRange(from: Date(timeIntervalSince1970: 5 * hour), to: Date(timeIntervalSince1970: 10 * hour)))
    }

    @Test func wholeHoursAndDays() {
        let day: TimeInterval = 86_400
        let range = StatsRange(from: Date(timeIntervalSince1970: 10 * day - 2 * hour), to: Date(timeIntervalSince1970: 13 * day + hour))
        #expect(range.isWholeHours)
        #expect(range.wholeDays.from == Date(timeIntervalSince1970: 10 * day))
        #expect(range.wholeDays.to == Date(timeIntervalSince1970: 13 * day))
        let short = StatsRange(from: Date(timeIntervalSince1970: 10 * day + hour), to: Date(timeIntervalSince1970: 10 * day + 5 * hour))
        #expect(short.wholeDays.from == short.to && short.wholeDays.to == short.to)
        #expect(!StatsRange(from: Date(timeIntervalSince1970: 1800), to: Date(timeIntervalSince1970: 7200)).isWholeHours)
    }

    @Test func defaultEndIsTheEndOfTheCurrentHour() {
        #expect(StatsRange.endOfHour(containing: Date(timeIntervalSince1970: 5 * hour + 1)) == Date(timeIntervalSince1970: 6 * hour))
        #expect(StatsRange.endOfHour(containing: Date(timeIntervalSince1970: 5 * hour)) == Date(timeIntervalSince1970: 6 * hour))
    }

    @Test func roundingIsToTwoDecimals() {
        #expect(StatsTotals(pageviews: 10, sessions: 3, bounces: 1, durationMicroseconds: 100_000_000).bounceRate == 33.33)
        #expect(StatsTotals(pageviews: 10, sessions: 3, bounces: 2, durationMicroseconds: 100_000_000).bounceRate == 66.67)
        #expect(StatsTotals(pageviews: 10, sessions: 3).pagesPerSession == 3.33)
        #expect(StatsTotals().bounceRate == 0 && StatsTotals().averageSessionDuration == 0)
        #expect(StatsTotals(pageviews: 3, sessions: 2, durationMicroseconds: 1_000_001).averageSessionDuration == 0.5)
        #expect(StatsTotals(pageviews: 3, sessions: 3, durationMicroseconds: 100_000_000).averageSessionDuration == 33.33)
    }

    @Test func chartOffsets() {
        #expect(ChartBucket.offset(7200) == "+02:00")
        #expect(ChartBucket.offset(-16_200) == "-04:30")
        #expect(ChartBucket.offset(0) == "+00:00")
        #expect(ChartBucket.offset(20_700) == "+05:45")
    }
}
