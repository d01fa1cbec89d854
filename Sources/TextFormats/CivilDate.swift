/// A day of the proleptic Gregorian calendar, the one RFC 3339 and PostgreSQL use (extended back
/// before 1582 and through year 0), and its place as a count of days from 1970-01-01.
///
/// This is the only calendar arithmetic in the project: every timestamp writer and parser goes
/// through it, so that leap years and dates before 1970 are right in one place. It is plain integer
/// arithmetic rather than `gmtime_r`/`timegm`, which stop at the C `int` year and cannot say that
/// 30 February does not exist without normalising it into March first.
public struct CivilDate: Sendable, Hashable {
    public var year: Int
    /// 1 (January) to 12.
    public var month: Int
    /// 1 to the length of the month.
    public var day: Int

    /// A date that exists: month 1 to 12 and a day within that month (29 February in leap years only).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= Self.numberOfDays(inMonth: month, year: year) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The length of `month` (1 to 12) in `year`.
    public static func numberOfDays(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // The arithmetic counts years from 1 March, so that the leap day is the last day of its year
    // and the months before it have fixed lengths; and in eras of 400 years, after which the
    // Gregorian calendar repeats itself exactly (146 097 days), so that negative years need only
    // one floor division.

    private static let daysPerEra = 146_097
    /// Days from 0000-03-01, the start of the era that holds 1970, to 1970-01-01.
    private static let epochDayInEra = 719_468

    /// The date `days` days after 1970-01-01 (before it, for negative `days`).
    public init(daysSinceEpoch days: Int64) {
        let daysFromEraStart = Int(days) + Self.epochDayInEra
        let era = Self.floorDivision(daysFromEraStart, Self.daysPerEra)
        let dayOfEra = daysFromEraStart - era * Self.daysPerEra
        // Within an era, every 4th year is a leap year except every 100th, except the 400th; the
        // three corrections undo the extra day each of them adds before dividing by 365.
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / (Self.daysPerEra - 1)) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        day = dayOfYear - Self.firstDayOfYear(monthFromMarch: monthFromMarch) + 1
        month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        year = era * 400 + yearOfEra + (month <= 2 ? 1 : 0)
    }

    /// Days from 1970-01-01 to this date, negative before it.
    public var daysSinceEpoch: Int64 {
        let yearFromMarch = month <= 2 ? year - 1 : year
        let era = Self.floorDivision(yearFromMarch, 400)
        let yearOfEra = yearFromMarch - era * 400
        let monthFromMarch = month <= 2 ? month + 9 : month - 3
        let dayOfYear = Self.firstDayOfYear(monthFromMarch: monthFromMarch) + day - 1
        let dayOfEra = 365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return Int64(era * Self.daysPerEra + dayOfEra - Self.epochDayInEra)
    }

    /// Counted from 1 March, the months run 31, 30, 31, 30, 31 days twice and then 31 and February:
    /// 153 days every five months. So the month's first day is this exact line through the pattern.
    private static func firstDayOfYear(monthFromMarch: Int) -> Int {
        (153 * monthFromMarch + 2) / 5
    }

    /// Division rounding towards minus infinity, so that day -1 belongs to 1969 and not to 1970.
    static func floorDivision(_ dividend: Int, _ divisor: Int) -> Int {
        let quotient = dividend / divisor
        return dividend % divisor < 0 ? quotient - 1 : quotient
    }
}
