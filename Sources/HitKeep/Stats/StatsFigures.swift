import Foundation

/// The headline numbers of one period, as counted; rates and means are derived when written out.
public struct StatsTotals: Sendable, Equatable {
    public var pageviews: Int
    public var sessions: Int
    /// Sessions with exactly one page view in the range.
    public var bounces: Int
    /// Σ over sessions of (last − first event time in the range), in microseconds: exact, as stored.
    public var durationMicroseconds: Int

    public init(pageviews: Int = 0, sessions: Int = 0, bounces: Int = 0, durationMicroseconds: Int = 0) {
        self.pageviews = pageviews
        self.sessions = sessions
        self.bounces = bounces
        self.durationMicroseconds = durationMicroseconds
    }

    public var bounceRate: Double { sessions == 0 ? 0 : Self.round(100 * Double(bounces) / Double(sessions)) }
    public var averageSessionDuration: Double {
        sessions == 0 ? 0 : Self.round(Double(durationMicroseconds) / 1_000_000 / Double(sessions))
    }
    public var pagesPerSession: Double { sessions == 0 ? 0 : Self.round(Double(pageviews) / Double(sessions)) }

    /// Two decimals, halves away from zero.
    public static func round(_ value: Double) -> Double {
        (value * 100).rounded(.toNearestOrAwayFromZero) / 100
    }
}

/// Everything the response says about one period.
public struct StatsPeriod: Sendable, Equatable {
    public var totals: StatsTotals
    public var chart: [ChartPoint]
    public var topLists: TopLists

    /// The numbers of no page views: zeros, a chart of `buckets` at zero, empty lists.
    static func nothing(over buckets: [ChartBucket]) -> StatsPeriod {
        StatsPeriod(totals: StatsTotals(), chart: buckets.map { ChartPoint(bucket: $0, pageviews: 0, visitors: 0) }, topLists: [:])
    }
}

/// One chart bucket's numbers.
public struct ChartPoint: Sendable, Equatable {
    public var bucket: ChartBucket
    public var pageviews: Int
    /// Distinct sessions with an event in the bucket (within the range).
    public var visitors: Int
}

/// An entry of a top list.
public struct RankedValue: Sendable, Equatable {
    public var name: String
    public var value: Int
}

/// The top lists, keyed as the rollups and queries name them: the event dimensions
/// (`path`, `referrer`, …) plus `entry` and `exit` for landing and exit pages.
public typealias TopLists = [String: [RankedValue]]
