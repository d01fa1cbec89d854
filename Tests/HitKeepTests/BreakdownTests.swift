import Foundation
import Testing
@testable import HitKeep

@Suite struct BreakdownRequestTests {
    private func parse(_ query: String, accept: String? = nil) throws -> BreakdownRequest {
        try BreakdownRequest(try #require(QueryParameters(parsing: query)), accept: accept)
    }

    private func refusal(_ query: String, accept: String? = nil) -> String? {
        do {
            _ = try parse(query, accept: accept)
            return nil
        } catch let refusal as DomainError {
            return refusal.code
        } catch {
            return "\(error)"
        }
    }

    @Test func defaults() throws {
        #expect(try parse("dimension=path") == BreakdownRequest(dimension: .path))
        let request = try parse("dimension=path")
        #expect((request.orderBy, request.order, request.pageSize, request.format) == (.pageviews, .desc, 100, .json))
    }

    @Test func readsEveryParameterAndTheStatsOnesAsTheStatsEndpointDoes() throws {
        let request = try parse("dimension=exit&from=2026-10-01&to=2026-10-31T12:00:00%2B02:00&timezone=Europe/Berlin"
                                + "&filter=device:Mobile&filter=referrer:(none)&order_by=avg_session_duration&order=asc"
                                + "&page_size=7&cursor=abc")
        #expect(request.dimension == .exit)
        #expect(request.stats == StatsRequest(from: .date("2026-10-01"), to: .instant(Date(timeIntervalSince1970: 1_793_440_800)),
                                              timezone: "Europe/Berlin",
                                              filters: [StatsFilter(dimension: .device, value: "mobile"),
                                                        StatsFilter(dimension: .referrer, value: "")]))
        #expect((request.orderBy, request.order, request.pageSize, request.cursor) == (.averageSessionDuration, .asc, 7, "abc"))
    }

    @Test func dimensionsAreTheFilterTypesPlusLandingAndExit() throws {
        #expect(StatsDimension.breakdowns.map(\.breakdownName) == ["path", "landing", "exit", "referrer", "device", "browser",
                                                                   "os", "country", "language", "utm_source", "utm_medium",
                                                                   "utm_campaign", "hostname"])
        for dimension in StatsDimension.filters {
            #expect(try parse("dimension=\(dimension.name)").dimension == dimension)
        }
        #expect(try parse("dimension=landing").dimension == .entry)
        #expect(try parse("dimension=entry").dimension == .entry)
        #expect(try parse("dimension=exit").dimension == .exit)
    }

    @Test(arguments: [
        ("", "invalid_dimension"), ("dimension=city", "invalid_dimension"), ("dimension=Path", "invalid_dimension"),
        ("dimension=path&order_by=sessions", "invalid_order"), ("dimension=path&order=DESC", "invalid_order"),
        ("dimension=path&page_size=0", "invalid_page_size"), ("dimension=path&page_size=5000", "invalid_page_size"),
        ("dimension=path&page_size=1001", "invalid_page_size"), ("dimension=path&page_size=x", "invalid_page_size"),
        ("dimension=path&cursor=", "invalid_cursor"), ("dimension=path&format=pdf", "invalid_format"),
        ("dimension=path&format=csv&page_size=5", "invalid_parameter"), ("dimension=path&format=csv&cursor=a", "invalid_parameter"),
        ("dimension=path&from=2026-02-30", "invalid_date"), ("dimension=path&filter=city:Berlin", "invalid_filter"),
        ("dimension=path&timezone=Mars/Olympus", "invalid_timezone"),
    ])
    func refusesBadParameters(_ query: String, _ code: String) {
        #expect(refusal(query) == code)
    }

    @Test func pageSizeBounds() throws {
        #expect(try parse("dimension=path&page_size=1").pageSize == 1)
        #expect(try parse("dimension=path&page_size=1000").pageSize == 1000)
    }

    @Test func csvByFormatOrAcceptHeader() throws {
        #expect(try parse("dimension=path&format=csv").format == .csv)
        #expect(try parse("dimension=path", accept: "text/csv").format == .csv)
        #expect(try parse("dimension=path", accept: "text/csv;q=0.9, application/json;q=0.5").format == .csv)
        #expect(try parse("dimension=path&format=json", accept: "text/csv").format == .json)
        for accept in ["application/json", "*/*", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json, text/csv;q=0.5",
                       "text/csv;q=0", "TEXT/CSV;q=0.1, */*"] {
            #expect(try parse("dimension=path", accept: accept).format == .json, "\(accept)")
        }
        #expect(refusal("dimension=path&page_size=5", accept: "text/csv") == "invalid_parameter")
    }
}

@Suite struct BreakdownCursorTests {
    private let request = BreakdownRequest(dimension: .path, stats: StatsRequest(from: .date("2026-10-25"), to: .date("2026-10-25")))
    private var fingerprint: [UInt8] { BreakdownCursor.fingerprint(siteID: "01JFKQ4Z7W3M9X0C5T2V8B6N1R", request: request, timezone: "UTC") }
    private var cursor: BreakdownCursor {
        BreakdownCursor(fingerprint: fingerprint,
                        range: StatsRange(from: Date(timeIntervalSince1970: 1_793_404_800.123456), to: Date(timeIntervalSince1970: 1_793_491_200)),
                        position: BreakdownPosition(key: 41_23, value: "/a,b\"c/ä"))
    }

    private func code(_ text: String, _ expected: [UInt8]? = nil) -> String? {
        do {
            _ = try BreakdownCursor(decoding: text, expecting: expected ?? fingerprint)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func roundTripsExactly() throws {
        let text = cursor.encoded
        #expect(text.utf8.allSatisfy { $0 == 0x2D || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) })
        let decoded = try BreakdownCursor(decoding: text, expecting: fingerprint)
        #expect(decoded == cursor)
        #expect(decoded.range.from.timeIntervalSince1970.bitPattern == cursor.range.from.timeIntervalSince1970.bitPattern)
        let empty = BreakdownCursor(fingerprint: fingerprint, range: cursor.range, position: BreakdownPosition(key: 0, value: ""))
        #expect(try BreakdownCursor(decoding: empty.encoded, expecting: fingerprint) == empty)
    }

    @Test func everyChangedTruncatedOrLengthenedCursorIsRefused() {
        let text = cursor.encoded
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var characters = Array(text)
        for index in characters.indices {
            let original = characters[index]
            for replacement in [alphabet[(alphabet.firstIndex(of: original)! + 1) % 64], alphabet[alphabet.firstIndex(of: original)! ^ 1]] {
                characters[index] = replacement
                #expect(code(String(characters)) == "invalid_cursor", "position \(index)")
            }
            characters[index] = original
        }
        for length in [0, 1, 10, text.count - 4, text.count - 1] {
            #expect(code(String(text.prefix(length))) == "invalid_cursor", "length \(length)")
        }
        for suffix in ["A", "AA", "AAAA", "=", "=="] {
            #expect(code(text + suffix) == "invalid_cursor", "\(suffix)")
        }
        #expect(code(text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "!") == "invalid_cursor")
    }

    @Test func aCursorBelongsToItsQuestionOnly() throws {
        let text = cursor.encoded
        var others: [[UInt8]] = [
            BreakdownCursor.fingerprint(siteID: "01JFKQ4Z7W3M9X0C5T2V8B6N1S", request: request, timezone: "UTC"),
            BreakdownCursor.fingerprint(siteID: "01JFKQ4Z7W3M9X0C5T2V8B6N1R", request: request, timezone: "Europe/Berlin"),
        ]
        var changes: [(inout BreakdownRequest) -> Void] = [
            { $0.dimension = .exit }, { $0.orderBy = .visitors }, { $0.order = .asc },
            { $0.stats.from = nil }, { $0.stats.to = .date("2026-10-26") },
            { $0.stats.from = .instant(Date(timeIntervalSince1970: 1_793_404_800)) },
            { $0.stats.filters = [StatsFilter(dimension: .device, value: "mobile")] },
        ]
        changes.append { $0.stats.filters = [StatsFilter(dimension: .path, value: "")] }
        for change in changes {
            var other = request
            change(&other)
            others.append(BreakdownCursor.fingerprint(siteID: "01JFKQ4Z7W3M9X0C5T2V8B6N1R", request: other, timezone: "UTC"))
        }
        #expect(Set(others.map { $0.map(String.init).joined(separator: ",") }).count == others.count)
        for other in others {
            #expect(other != fingerprint)
            #expect(code(text, other) == "invalid_cursor")
        }
        // What does not change the question: the page size, the format, the order of the filters.
        var same = request
        same.pageSize = 3
        same.stats.filters = [StatsFilter(dimension: .device, value: "mobile"), StatsFilter(dimension: .os, value: "iOS")]
        var swapped = same
        swapped.stats.filters.reverse()
        #expect(BreakdownCursor.fingerprint(siteID: "x", request: same, timezone: "UTC")
                == BreakdownCursor.fingerprint(siteID: "x", request: swapped, timezone: "UTC"))
    }
}

@Suite struct RawEventBreakdownTests {
    private let question = BreakdownQuestion(siteID: "S", dimension: .entry, range: StatsRange(from: .distantPast, to: .now),
                                             filters: [StatsFilter(dimension: .device, value: "mobile")], orderBy: .bounceRate,
                                             order: .asc)

    @Test func bindsEveryValueAndOrdersByTheMetricThenTheNameInByteOrder() {
        let first = RawEventBreakdown.statement(question, after: nil, limit: 101)
        #expect(first.sql.contains("ORDER BY bounce_rate ASC, name COLLATE \"C\", value COLLATE \"C\""))
        #expect(first.sql.contains("array_agg(path ORDER BY occurred_at, id)"))
        #expect(!first.sql.contains("WHERE bounce_rate"))
        let next = RawEventBreakdown.statement(question, after: BreakdownPosition(key: 5000, value: "/it's"), limit: nil)
        #expect(next.sql.contains("WHERE bounce_rate > $"))
        #expect(!next.sql.contains("/it's"))
        #expect(next.parameters.count == first.parameters.count + 5)
        var exits = question
        exits.dimension = .exit
        exits.order = .desc
        #expect(RawEventBreakdown.statement(exits, after: BreakdownPosition(key: 1, value: ""), limit: 1).sql
            .contains("WHERE bounce_rate < $"))
    }
}

@Suite struct FilteredBreakdownPeriodsTests {
    private let day: TimeInterval = 86_400
    private func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: 1_772_755_200 + seconds) }
    private func day(_ number: Double) -> FilteredBreakdownPeriods.Period {
        .init(start: at(number * day), end: at((number + 1) * day), isDay: true)
    }
    private func hour(_ number: Double) -> FilteredBreakdownPeriods.Period {
        .init(start: at(number * 3_600), end: at((number + 1) * 3_600), isDay: false)
    }
    /// A day of a zone `offset` hours ahead of UTC, `hours` long.
    private func localDay(_ number: Double, offset: Double, hours: Double = 24) -> FilteredBreakdownPeriods.Period {
        let start = number * day - offset * 3_600
        return .init(start: at(start), end: at(start + hours * 3_600), isDay: true)
    }

    @Test func theRemainderIsTheRangeOutsideThePeriodsInOrder() {
        // 10:30 on the first day to 05:00 on the fifth; days 2 and 3 added up, and hours 1 and 2 of the fourth.
        let range = StatsRange(from: at(10.5 * 3_600), to: at(4 * day + 5 * 3_600))
        let periods = [day(1), day(2), hour(73), hour(74)]
        #expect(FilteredBreakdownPeriods.remainder(of: range, outside: periods)
                == [StatsRange(from: at(10.5 * 3_600), to: at(day)), StatsRange(from: at(3 * day), to: at(73 * 3_600)),
                    StatsRange(from: at(75 * 3_600), to: at(4 * day + 5 * 3_600))])
    }

    @Test func periodsThatFillTheRangeLeaveNothingAndGapsBetweenThemStay() {
        #expect(FilteredBreakdownPeriods.remainder(of: StatsRange(from: at(0), to: at(2 * day)), outside: [day(0), day(1)]) == [])
        #expect(FilteredBreakdownPeriods.remainder(of: StatsRange(from: at(0), to: at(3 * day)), outside: [day(0), day(2)])
                == [StatsRange(from: at(day), to: at(2 * day))])
    }

    @Test func aDayTakesThePlaceOfItsHours() {
        let closed = [day(0), hour(3), hour(23), hour(24), day(2), hour(50)]
        #expect(FilteredBreakdownPeriods.disjoint(closed) == [day(0), hour(24), day(2)])
    }

    @Test func aDayOfTheSitesZoneIsReadWhateverItsLength() {
        // Europe/Berlin's last day of summer time: 25 hours from 22:00 UTC.
        let autumn = localDay(1, offset: 2, hours: 25)
        let range = StatsRange(from: autumn.start, to: at(2 * day + 2 * 3_600))
        #expect(FilteredBreakdownPeriods.remainder(of: range, outside: [autumn])
                == [StatsRange(from: at(2 * day - 3_600), to: at(2 * day + 2 * 3_600))])
    }

    @Test func aDayTheRangeHoldsMoreOfThanNotIsReadWholeLessItsOutsidePart() {
        // Europe/Berlin's days (+01:00) asked in UTC: 00:00 on day 1 to 00:00 on day 4.
        let berlin = (0...4).map { localDay(Double($0), offset: 1) }
        let range = StatsRange(from: at(day), to: at(4 * day))
        let periods = [berlin[2], berlin[3]]
        let partial = FilteredBreakdownPeriods.partialDays(berlin, of: range, besides: periods)
        // Day 1 of Berlin holds 23 hours of the range and one before it; day 4 holds one hour of it.
        #expect(partial == [FilteredBreakdownPeriods.PartialDay(day: berlin[1], inside: StatsRange(from: at(day), to: berlin[1].end),
                                                                outside: StatsRange(from: berlin[1].start, to: at(day)))])
        // Not a day a period overlaps, nor one that holds the whole range.
        #expect(FilteredBreakdownPeriods.partialDays(berlin, of: range, besides: periods + [hour(23)]) == [])
        #expect(FilteredBreakdownPeriods.partialDays(berlin, of: StatsRange(from: at(day + 3_600), to: at(day + 7_200)),
                                                     besides: []) == [])
    }

    @Test func daysOfAnotherZoneGiveWayToTheFirstAndHoursADayHoldsPartlyAreRead() {
        // A site moved from UTC to Asia/Kolkata (+05:30): its UTC day 1 overlaps its local days 1 and 2.
        let kolkata = [localDay(1, offset: 5.5), localDay(2, offset: 5.5)]
        // 18:00–19:00 UTC: half in each local day.
        let closed = [kolkata[0], day(1), hour(42), kolkata[1], hour(66)]
        #expect(FilteredBreakdownPeriods.disjoint(closed) == [kolkata[0], kolkata[1]])
        #expect(FilteredBreakdownPeriods.disjoint([day(1), kolkata[1], hour(66)]) == [day(1), hour(66)])
    }
}
