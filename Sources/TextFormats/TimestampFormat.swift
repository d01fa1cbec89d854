/// The two text forms of a UTC instant the project reads and writes, and everything in which they
/// differ; `TimestampWriter` and `TimestampParser` hold what they share.
public enum TimestampFormat: Sendable {
    /// RFC 3339, as the API and the logs write it: `2026-11-26T15:04:05.123Z`. Read with `T`, `t`
    /// or a space between date and time, any fraction, and `Z`, `z` or `±hh:mm`; a four-digit year.
    case rfc3339
    /// PostgreSQL's ISO style (`DateStyle=ISO`): `2026-11-26 15:04:05.123456+00`. Read with a
    /// space between date and time, any fraction, an offset of `±hh`, `±hh:mm` or `±hh:mm:ss`
    /// (older zones had seconds in theirs) or none at all (a `timestamp` without zone), and
    /// years of four to six digits: PostgreSQL's `timestamptz` runs to 294276.
    case postgreSQL

    /// What is written between the date and the time.
    var dateTimeSeparator: UInt8 {
        switch self {
        case .rfc3339: UInt8(ascii: "T")
        case .postgreSQL: UInt8(ascii: " ")
        }
    }

    func acceptsDateTimeSeparator(_ byte: UInt8) -> Bool {
        switch self {
        case .rfc3339: byte == UInt8(ascii: "T") || byte == UInt8(ascii: "t") || byte == UInt8(ascii: " ")
        case .postgreSQL: byte == UInt8(ascii: " ")
        }
    }

    /// What is written after the time: the writers always write UTC.
    var utcDesignator: StaticString {
        switch self {
        case .rfc3339: "Z"
        case .postgreSQL: "+00"
        }
    }

    /// Whether `Z` (or `z`) is read as UTC.
    var acceptsZulu: Bool { self == .rfc3339 }

    /// Whether text may end after the time, meaning UTC.
    var offsetIsOptional: Bool { self == .postgreSQL }

    /// How many of hours, minutes and seconds a numeric offset may have.
    var offsetFields: ClosedRange<Int> {
        switch self {
        case .rfc3339: 2...2
        case .postgreSQL: 1...3
        }
    }

    var yearDigits: ClosedRange<Int> {
        switch self {
        case .rfc3339: 4...4
        case .postgreSQL: 4...6
        }
    }
}
