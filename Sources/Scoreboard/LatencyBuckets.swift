/// The latency histogram's buckets: upper bounds from half a millisecond (a 404 takes about a
/// tenth of that) to ten seconds (the statement timeout), and everything beyond. Counted one bucket
/// per request; Prometheus's cumulative `le` buckets are summed when the metrics are written.
enum LatencyBuckets {
    static let upperBoundsNanoseconds: [UInt64] = [
        500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000,
        250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000, 5_000_000_000, 10_000_000_000,
    ]
    /// One per bound, then +Inf.
    static let count = upperBoundsNanoseconds.count + 1

    @inline(__always)
    static func bucket(of nanoseconds: UInt64) -> Int {
        var bucket = 0
        while bucket < upperBoundsNanoseconds.count && nanoseconds > upperBoundsNanoseconds[bucket] { bucket += 1 }
        return bucket
    }

    /// The `le` label of a bucket: seconds, as Prometheus's client libraries write them.
    static func label(of bucket: Int) -> String {
        guard bucket < upperBoundsNanoseconds.count else { return "+Inf" }
        return PrometheusNumber.seconds(nanoseconds: upperBoundsNanoseconds[bucket])
    }
}
