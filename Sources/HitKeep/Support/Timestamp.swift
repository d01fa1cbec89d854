import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 times as the API writes them: UTC with milliseconds, `2026-11-26T15:04:05.123Z`.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let fraction = Int32(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Built byte by byte: every object the API returns carries a few of these.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func digits(_ value: Int32, _ count: Int) {
                var remaining = value
                for position in stride(from: index + count - 1, through: index, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                }
                index += count
            }
            func character(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            digits(parts.tm_year + 1900, 4); character(UInt8(ascii: "-"))
            digits(parts.tm_mon + 1, 2); character(UInt8(ascii: "-"))
            digits(parts.tm_mday, 2); character(UInt8(ascii: "T"))
            digits(parts.tm_hour, 2); character(UInt8(ascii: ":"))
            digits(parts.tm_min, 2); character(UInt8(ascii: ":"))
            digits(parts.tm_sec, 2); character(UInt8(ascii: "."))
            digits(fraction, 3); character(UInt8(ascii: "Z"))
            return index
        }
    }

    /// Parses an RFC 3339 date-time: `T` or space, any fraction, `Z` or a numeric offset.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + width] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += width
            return value
        }
        func expect(_ allowed: [UInt8]) -> Bool {
            guard index < bytes.count, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect([45]), let month = number(2), expect([45]), let day = number(2),
              expect([84, 116, 32]), let hour = number(2), expect([58]), let minute = number(2), expect([58]),
              let second = number(2) else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction = 0.0
        if expect([46]) {
            var scale = 0.1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
                digits += 1
            }
            guard digits > 0 else { return nil }
        }
        var offset = 0
        if expect([90, 122]) {
            offset = 0
        } else if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
            let negative = bytes[index] == 45
            index += 1
            guard let hours = number(2), expect([58]), let minutes = number(2), hours < 24, minutes < 60 else { return nil }
            offset = (hours * 3600 + minutes * 60) * (negative ? -1 : 1)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(min(second, 59))
        let epoch = timegm(&parts)
        // timegm normalises 31 February into March: such a date does not exist.
        guard parts.tm_mday == Int32(day), parts.tm_mon == Int32(month - 1) else { return nil }
        return Date(timeIntervalSince1970: Double(epoch - offset) + fraction)
    }
}

extension JSON {
    /// A time as the API writes it, or `null`.
    public static func time(_ date: Date?) -> JSON {
        date.map { .string(Timestamp.format($0)) } ?? .null
    }
}
