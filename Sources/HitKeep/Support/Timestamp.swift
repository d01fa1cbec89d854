import Foundation
import TextFormats

/// RFC 3339 times as the API writes them: UTC with milliseconds, `2026-11-26T15:04:05.123Z`; and
/// as it reads them: `T` or space, any fraction, `Z` or a numeric offset.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        TimestampWriter.string(date, format: .rfc3339, fractionDigits: 3)
    }

    public static func parse(_ text: String) -> Date? {
        TimestampParser.date(from: text, format: .rfc3339)
    }
}

extension JSON {
    /// A time as the API writes it, or `null`.
    public static func time(_ date: Date?) -> JSON {
        date.map { .string(Timestamp.format($0)) } ?? .null
    }
}
