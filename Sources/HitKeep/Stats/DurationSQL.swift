import PostgresClient

/// Durations between page views as SQL.
enum DurationSQL {
    /// An `interval` between two page views as whole microseconds, a `bigint`.
    ///
    /// `extract(epoch …)` is exact but `numeric`, and summing it over millions of sessions costs a
    /// sixth of a raw breakdown's time. `date_part` is a double: with its 53 bits, its seconds times a
    /// million are less than half a microsecond off the exact count for any interval under 30 years,
    /// so rounding gives that count back, and sums of `bigint` are exact again.
    static func microseconds(_ interval: PostgresQuery) -> PostgresQuery {
        "round(date_part('epoch', \(interval)) * 1000000)::bigint"
    }
}
