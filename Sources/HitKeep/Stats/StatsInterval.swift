/// The step of a stats chart. Buckets start at the interval's boundaries in the requested time
/// zone: hours, local midnights, Mondays, first days of months.
public enum StatsInterval: String, Sendable, CaseIterable {
    case hour, day, week, month

    /// `hour` up to 2 days, `month` from 365 days, else `day` (docs/API.md §10.1).
    public static func defaultFor(seconds: Double) -> StatsInterval {
        if seconds <= 2 * 86_400 { return .hour }
        if seconds >= 365 * 86_400 { return .month }
        return .day
    }

    /// The shortest a step can be (a DST day has 23 hours, February 28 days): bounds the bucket count.
    var minimumSeconds: Double {
        switch self {
        case .hour: 3600
        case .day: 23 * 3600
        case .week: 7 * 86_400 - 3600
        case .month: 28 * 86_400 - 3600
        }
    }
}
