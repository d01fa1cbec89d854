#if canImport(Glibc)
import Glibc
#endif
import Testing
import TextFormats

@Suite struct CivilDateTests {
    private func date(_ year: Int, _ month: Int, _ day: Int) throws -> CivilDate {
        try #require(CivilDate(year: year, month: month, day: day))
    }

    @Test func countsDaysFromTheEpoch() throws {
        #expect(try date(1970, 1, 1).daysSinceEpoch == 0)
        #expect(try date(1970, 1, 2).daysSinceEpoch == 1)
        #expect(try date(2000, 3, 1).daysSinceEpoch == 11_017)
        #expect(try date(2026, 11, 26).daysSinceEpoch == 20_783)
        #expect(CivilDate(daysSinceEpoch: 20_783) == (try date(2026, 11, 26)))
    }

    @Test func datesBeforeTheEpochAreNegative() throws {
        #expect(try date(1969, 12, 31).daysSinceEpoch == -1)
        #expect(CivilDate(daysSinceEpoch: -1) == (try date(1969, 12, 31)))
        #expect(CivilDate(daysSinceEpoch: -365) == (try date(1969, 1, 1)))
        #expect(CivilDate(daysSinceEpoch: -366) == (try date(1968, 12, 31)))
        #expect(try date(1, 1, 1).daysSinceEpoch == -719_162)
        #expect(try date(0, 3, 1).daysSinceEpoch == -719_468)
        #expect(CivilDate(daysSinceEpoch: -719_469) == (try date(0, 2, 29)))
        #expect(CivilDate(daysSinceEpoch: -719_529) == (try date(-1, 12, 31)))
    }

    @Test func reachesYearTenThousandAndBeyond() throws {
        #expect(try date(9999, 12, 31).daysSinceEpoch == 2_932_896)
        #expect(CivilDate(daysSinceEpoch: 2_932_897) == (try date(10000, 1, 1)))
        #expect(CivilDate(daysSinceEpoch: 106_751_991_167_300) == (try date(292_277_026_596, 12, 4)))
    }

    @Test func leapDaysFollowTheGregorianRules() throws {
        #expect(CivilDate.isLeapYear(2024))
        #expect(CivilDate.isLeapYear(2000))
        #expect(CivilDate.isLeapYear(0))
        #expect(CivilDate.isLeapYear(-4))
        #expect(!CivilDate.isLeapYear(2026))
        #expect(!CivilDate.isLeapYear(1900))
        #expect(!CivilDate.isLeapYear(2100))
        #expect(CivilDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2026, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2100, month: 2, day: 29) == nil)
        #expect(try date(2024, 3, 1).daysSinceEpoch - date(2024, 2, 28).daysSinceEpoch == 2)
        #expect(try date(2100, 3, 1).daysSinceEpoch - date(2100, 2, 28).daysSinceEpoch == 1)
        #expect(CivilDate(daysSinceEpoch: 19_782) == (try date(2024, 2, 29)))
    }

    @Test func refusesDatesThatDoNotExist() {
        #expect(CivilDate(year: 2026, month: 0, day: 1) == nil)
        #expect(CivilDate(year: 2026, month: 13, day: 1) == nil)
        #expect(CivilDate(year: 2026, month: 4, day: 31) == nil)
        #expect(CivilDate(year: 2026, month: 1, day: 0) == nil)
        #expect(CivilDate(year: 2026, month: 12, day: 31) != nil)
    }

    /// Day by day over 1200 years around the epoch: each day is the one after the previous, and
    /// converts back to its count.
    @Test func everyDayFollowsThePreviousOne() throws {
        var previous = CivilDate(daysSinceEpoch: -300_000)
        for days in Int64(-299_999)...Int64(150_000) {
            let current = CivilDate(daysSinceEpoch: days)
            let monthEnded = previous.day == CivilDate.numberOfDays(inMonth: previous.month, year: previous.year)
            let expected = !monthEnded
                ? CivilDate(year: previous.year, month: previous.month, day: previous.day + 1)
                : previous.month == 12 ? CivilDate(year: previous.year + 1, month: 1, day: 1)
                : CivilDate(year: previous.year, month: previous.month + 1, day: 1)
            if current != expected || current.daysSinceEpoch != days {
                Issue.record("day \(days) is \(current), expected \(String(describing: expected))")
                return
            }
            previous = current
        }
    }

    /// Against the C library's calendar, second by second across the range it covers.
    @Test func agreesWithGmtime() {
        var seconds: Int64 = -62_000_000_000
        while seconds < 250_000_000_000 {
            var time = time_t(seconds)
            var parts = tm()
            gmtime_r(&time, &parts)
            let fields = UTCDateTime(secondsSinceEpoch: seconds)
            let same = fields.date.year == Int(parts.tm_year) + 1900 && fields.date.month == Int(parts.tm_mon) + 1
                && fields.date.day == Int(parts.tm_mday) && fields.hour == Int(parts.tm_hour)
                && fields.minute == Int(parts.tm_min) && fields.second == Int(parts.tm_sec)
            if !same {
                Issue.record("\(seconds): \(fields) against gmtime's \(parts)")
                return
            }
            if fields.secondsSinceEpoch != seconds {
                Issue.record("\(fields) converts back to \(fields.secondsSinceEpoch), not \(seconds)")
                return
            }
            seconds += 7_777_777 + seconds % 3
        }
    }

    @Test func splitsSecondsBeforeTheEpochIntoThePreviousDay() throws {
        let fields = UTCDateTime(secondsSinceEpoch: -1)
        #expect(fields.date == (try date(1969, 12, 31)))
        #expect((fields.hour, fields.minute, fields.second) == (23, 59, 59))
        #expect(UTCDateTime(secondsSinceEpoch: -86_400).date == (try date(1969, 12, 31)))
        #expect(UTCDateTime(secondsSinceEpoch: -86_401).date == (try date(1969, 12, 30)))
    }
}
