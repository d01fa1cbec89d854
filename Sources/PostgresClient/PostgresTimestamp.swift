import Foundation
import TextFormats

/// `timestamptz` in the ISO text form the connection asks for (`DateStyle=ISO`):
/// `2026-11-26 15:04:05.123456+00`. Sent in UTC with microseconds, PostgreSQL's own precision, so
/// that a time read back is the time stored; read with whatever offset the server writes.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        TimestampWriter.string(date, format: .postgreSQL, fractionDigits: 6)
    }

    static func append(_ date: Date, to bytes: inout [UInt8]) {
        TimestampWriter.append(date, format: .postgreSQL, fractionDigits: 6, to: &bytes)
    }

    static func parse(_ text: String) -> Date? {
        TimestampParser.date(from: text, format: .postgreSQL)
    }
}
