/// How many days a site's raw events are kept (`retention_days`, HITKEEP_RETENTION_DAYS). A day at
/// least, since a shorter period would remove the events of sessions still under way; ten years at
/// most, beyond which keeping everything (no retention) is the clearer setting.
public enum RetentionPeriod {
    public static let days = 1...3650

    public static func validate(_ days: Int) throws -> Int {
        guard Self.days.contains(days) else {
            throw DomainError.invalid("invalid_retention_days",
                                      "retention_days must be a whole number of days from \(Self.days.lowerBound) to \(Self.days.upperBound), or null to keep raw events for as long as the instance does")
        }
        return days
    }
}
