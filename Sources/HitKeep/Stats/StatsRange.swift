import Foundation

/// A resolved range [from, to) of instants.
public struct StatsRange: Sendable, Equatable {
    public var from: Date
    public var to: Date

    public init(from: Date, to: Date) {
        self.from = from
        self.to = to
    }

    public var seconds: Double { to.timeIntervalSince(from) }

    /// The period of equal length just before this one: what `compare=previous` compares with,
    /// unless `from` was a date (then whole calendar days count, `StatsController.resolve`).
    public var previous: StatsRange {
        StatsRange(from: from.addingTimeInterval(-seconds), to: from)
    }

    /// Whether both ends are whole UTC hours: the rollups can answer such a range exactly.
    public var isWholeHours: Bool {
        Self.isWholeHour(from) && Self.isWholeHour(to)
    }

    /// The whole UTC units of `seconds` (hours, quarter hours) inside the range, if there are any.
    func whole(unitsOf seconds: TimeInterval) -> StatsRange? {
        let start = Date(timeIntervalSince1970: (from.timeIntervalSince1970 / seconds).rounded(.up) * seconds)
        let end = Date(timeIntervalSince1970: (to.timeIntervalSince1970 / seconds).rounded(.down) * seconds)
        return start < end ? StatsRange(from: start, to: end) : nil
    }

    /// The whole UTC units of `seconds` that hold the range: from the start of the one holding `from`
    /// to the end of the one holding the last instant before `to`.
    func covering(unitsOf seconds: TimeInterval) -> StatsRange {
        StatsRange(from: Date(timeIntervalSince1970: (from.timeIntervalSince1970 / seconds).rounded(.down) * seconds),
                   to: Date(timeIntervalSince1970: (to.timeIntervalSince1970 / seconds).rounded(.up) * seconds))
    }

    /// The whole UTC days inside the range, [firstDay, lastDayEnd); empty (both `to`) when there are none.
    public var wholeDays: (from: Date, to: Date) {
        let start = (from.timeIntervalSince1970 / 86_400).rounded(.up) * 86_400
        let end = (to.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        guard start < end else { return (to, to) }
        return (Date(timeIntervalSince1970: start), Date(timeIntervalSince1970: end))
    }

    static func isWholeHour(_ date: Date) -> Bool {
        date.timeIntervalSince1970.truncatingRemainder(dividingBy: 3600) == 0
    }

    /// The end of the current hour: the default `to`, so that the default range is whole hours.
    static func endOfHour(containing date: Date) -> Date {
        Date(timeIntervalSince1970: ((date.timeIntervalSince1970 / 3600).rounded(.down) + 1) * 3600)
    }

    /// The longest range a query may ask for: five years, leap days included.
    static let maximumSeconds: Double = (5 * 365 + 2) * 86_400
}
