import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `timestamptz` in the ISO text form the connection asks for (`DateStyle=ISO`):
/// `2026-11-26 15:04:05.123456+00`, with an offset of `+HH`, `+HH:MM` or `+HH:MM:SS`.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        let totalMicroseconds = (date.timeIntervalSince1970 * 1_000_000).rounded(.down)
        var seconds = time_t(Int64((totalMicroseconds / 1_000_000).rounded(.down)))
        let microseconds = Int(Int64(totalMicroseconds) - Int64(seconds) * 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let year = Int(parts.tm_year) + 1900
        guard (0...9999).contains(year) else {
            // Years of more than four digits (no page view has one, but a Date can): the general form.
            return String(format: "%d-%02d-%02d %02d:%02d:%02d.%06d+00", year, parts.tm_mon + 1, parts.tm_mday,
                          parts.tm_hour, parts.tm_min, parts.tm_sec, microseconds)
        }
        // "YYYY-MM-DD hh:mm:ss.uuuuuu+00", written in place: every event carries one, and string
        // interpolation of padded numbers costs more than the rest of the parameter list.
        return String(unsafeUninitializedCapacity: 29) { buffer in
            var index = 0
            func put(_ value: Int, _ width: Int) {
                var value = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    buffer[index + offset] = UInt8(truncatingIfNeeded: 48 + value % 10)
                    value /= 10
                }
                index += width
            }
            func put(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            put(year, 4); put(UInt8(ascii: "-")); put(Int(parts.tm_mon) + 1, 2); put(UInt8(ascii: "-"))
            put(Int(parts.tm_mday), 2); put(UInt8(ascii: " ")); put(Int(parts.tm_hour), 2); put(UInt8(ascii: ":"))
            put(Int(parts.tm_min), 2); put(UInt8(ascii: ":")); put(Int(parts.tm_sec), 2); put(UInt8(ascii: "."))
            put(microseconds, 6); put(UInt8(ascii: "+")); put(0, 2)
            return index
        }
    }

    static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<width {
                let byte = bytes[index + offset]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += width
            return value
        }
        func expect(_ character: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == character else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              expect(32), let hour = number(2), expect(58), let minute = number(2), expect(58),
              let second = number(2), (1...12).contains(month) else { return nil }
        var fraction = 0.0
        if index < bytes.count && bytes[index] == 46 {
            index += 1
            var scale = 0.1
            while index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offsetSeconds = 0
        if index < bytes.count {
            let sign = bytes[index]
            guard sign == 43 || sign == 45 else { return nil }
            index += 1
            guard let offsetHours = number(2) else { return nil }
            var offsetMinutes = 0, offsetExtraSeconds = 0
            if expect(58) { guard let minutes = number(2) else { return nil }; offsetMinutes = minutes }
            if expect(58) { guard let extra = number(2) else { return nil }; offsetExtraSeconds = extra }
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60 + offsetExtraSeconds) * (sign == 45 ? -1 : 1)
        }
        guard index == bytes.count else { return nil }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(seconds - offsetSeconds) + fraction)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
