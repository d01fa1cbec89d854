/// An instant in UTC to the whole second, as the fields a timestamp's text holds before its
/// fraction and zone. UTC has no leap seconds here, as in POSIX time: every day has 86 400 seconds.
public struct UTCDateTime: Sendable, Hashable {
    public var date: CivilDate
    /// 0 to 23.
    public var hour: Int
    /// 0 to 59.
    public var minute: Int
    /// 0 to 59.
    public var second: Int
}

// In an extension, so that the struct keeps its memberwise initializer for the parser.
extension UTCDateTime {
    /// The fields of `seconds` after 1970-01-01T00:00:00Z (before it, for negative `seconds`).
    public init(secondsSinceEpoch seconds: Int64) {
        let days = CivilDate.floorDivision(Int(seconds), 86_400)
        let secondOfDay = Int(seconds) - days * 86_400
        date = CivilDate(daysSinceEpoch: Int64(days))
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
    }

    public var secondsSinceEpoch: Int64 {
        date.daysSinceEpoch * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
