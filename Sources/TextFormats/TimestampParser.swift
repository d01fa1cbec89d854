import Foundation

/// Reads dates and UTC instants from text: `YYYY-MM-DD`, then for an instant a separator,
/// `hh:mm:ss`, an optional fraction of any length and a zone, in the forms `TimestampFormat`
/// allows. A date must exist (no 30 February) and a time be within its day; `:60`, a leap second,
/// is read as `:59`, since a `Date` has no place for it.
public enum TimestampParser {
    public static func date(from text: String, format: TimestampFormat) -> Date? {
        var text = text
        return text.withUTF8 { bytes in
            var cursor = ASCIICursor(bytes)
            return instant(&cursor, format: format)
        }
    }

    /// A calendar date alone, `YYYY-MM-DD` with a four-digit year, and nothing after it.
    public static func civilDate(from text: String) -> CivilDate? {
        var text = text
        return text.withUTF8 { bytes in
            var cursor = ASCIICursor(bytes)
            guard let date = civilDate(&cursor, yearDigits: 4...4), cursor.isAtEnd else { return nil }
            return date
        }
    }

    private static func civilDate(_ cursor: inout ASCIICursor, yearDigits: ClosedRange<Int>) -> CivilDate? {
        guard let year = cursor.number(digits: yearDigits), cursor.skip(UInt8(ascii: "-")),
              let month = cursor.number(digits: 2), cursor.skip(UInt8(ascii: "-")),
              let day = cursor.number(digits: 2) else { return nil }
        return CivilDate(year: year, month: month, day: day)
    }

    private static func instant(_ cursor: inout ASCIICursor, format: TimestampFormat) -> Date? {
        guard let date = civilDate(&cursor, yearDigits: format.yearDigits),
              let separator = cursor.next(), format.acceptsDateTimeSeparator(separator),
              let hour = cursor.number(digits: 2), cursor.skip(UInt8(ascii: ":")),
              let minute = cursor.number(digits: 2), cursor.skip(UInt8(ascii: ":")),
              let second = cursor.number(digits: 2),
              hour < 24, minute < 60, second <= 60 else { return nil }
        // Summed digit by digit as a Double: as fine as a Date is, with no limit on the digits.
        var fraction = 0.0
        if cursor.skip(UInt8(ascii: ".")) {
            var scale = 0.1
            var digits = 0
            while let digit = cursor.digit() {
                fraction += Double(digit) * scale
                scale /= 10
                digits += 1
            }
            guard digits > 0 else { return nil }
        }
        guard let offset = offsetSeconds(&cursor, format: format), cursor.isAtEnd else { return nil }
        let fields = UTCDateTime(date: date, hour: hour, minute: minute, second: min(second, 59))
        return Date(timeIntervalSince1970: Double(fields.secondsSinceEpoch - Int64(offset)) + fraction)
    }

    /// The zone's offset east of UTC in seconds: `Z`, or a sign and hours, minutes, seconds
    /// separated by colons, as many of them as the format allows.
    private static func offsetSeconds(_ cursor: inout ASCIICursor, format: TimestampFormat) -> Int? {
        if cursor.isAtEnd { return format.offsetIsOptional ? 0 : nil }
        if format.acceptsZulu && (cursor.skip(UInt8(ascii: "Z")) || cursor.skip(UInt8(ascii: "z"))) { return 0 }
        let sign: Int
        if cursor.skip(UInt8(ascii: "+")) {
            sign = 1
        } else if cursor.skip(UInt8(ascii: "-")) {
            sign = -1
        } else {
            return nil
        }
        guard let hours = cursor.number(digits: 2), hours < 24 else { return nil }
        var seconds = hours * 3600
        var fields = 1
        // Then minutes and seconds, each after a colon.
        var unit = 60
        while unit >= 1, cursor.skip(UInt8(ascii: ":")) {
            guard let value = cursor.number(digits: 2), value < 60 else { return nil }
            seconds += value * unit
            unit /= 60
            fields += 1
        }
        guard format.offsetFields.contains(fields) else { return nil }
        return sign * seconds
    }
}
