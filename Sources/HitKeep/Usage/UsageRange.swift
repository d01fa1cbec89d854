import Foundation
import TextFormats

/// The days a usage request asks for: `from` and `to` as `YYYY-MM-DD` (UTC days, both included);
/// by default the 30 days up to today. At most `ClientUsageStore.maximumRangeDays` days.
struct UsageRange {
    let from: CivilDate
    let to: CivilDate

    init(query: QueryParameters, now: Date) throws(DomainError) {
        let today = CivilDate(daysSinceEpoch: Int64(ClientUsageRecorder.day(of: now)))
        let to = try query["to"].map { text throws(DomainError) in try Self.date(text, "to") } ?? today
        let from = try query["from"].map { text throws(DomainError) in try Self.date(text, "from") }
            ?? CivilDate(daysSinceEpoch: to.daysSinceEpoch - 29)
        guard from.daysSinceEpoch <= to.daysSinceEpoch else {
            throw .invalid("invalid_range", "from must not be after to")
        }
        guard to.daysSinceEpoch - from.daysSinceEpoch < Int64(ClientUsageStore.maximumRangeDays) else {
            throw .invalid("invalid_range", "a usage range may span at most \(ClientUsageStore.maximumRangeDays) days")
        }
        self.from = from
        self.to = to
    }

    /// `YYYY-MM-DD` of a date that exists.
    private static func date(_ text: String, _ name: String) throws(DomainError) -> CivilDate {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              let date = CivilDate(year: year, month: month, day: day) else {
            throw .invalid("invalid_range", "\(name) must be a date such as 2026-12-01")
        }
        return date
    }
}

extension CivilDate {
    /// `YYYY-MM-DD`, for the years 0 to 9999 the usage endpoints can name.
    var isoText: String {
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(width - digits.count, 0)) + digits
        }
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }
}
