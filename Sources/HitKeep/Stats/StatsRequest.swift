import Foundation
import TextFormats

/// The query parameters of `GET /api/sites/{id}/stats`, checked (docs/API.md §10.1). Range ends that are
/// dates are resolved to instants later, in PostgreSQL, with the time zone's rules.
public struct StatsRequest: Sendable, Equatable {
    /// One end of the range: an instant, or a calendar date meaning that whole day in `timezone`.
    public enum Bound: Sendable, Equatable {
        case instant(Date)
        case date(String)   // YYYY-MM-DD, validated
    }

    public var from: Bound?
    public var to: Bound?
    public var timezone: String?
    public var interval: StatsInterval?
    public var filters: [StatsFilter]
    public var compare: Bool
    public var limit: Int

    /// The query parameters `init(_:)` reads; any other is refused.
    public static let parameterNames = ["from", "to", "timezone", "interval", "filter", "compare", "limit"]

    public static let defaultLimit = 10
    public static let maximumLimit = 100
    /// Every combination of filters is a statement of its own, prepared on the worker's database
    /// connection; ten filters answer any question a person clicks together.
    public static let maximumFilters = 10

    public init(from: Bound? = nil, to: Bound? = nil, timezone: String? = nil, interval: StatsInterval? = nil,
                filters: [StatsFilter] = [], compare: Bool = true, limit: Int = defaultLimit) {
        self.from = from
        self.to = to
        self.timezone = timezone
        self.interval = interval
        self.filters = filters
        self.compare = compare
        self.limit = limit
    }

    public init(_ query: QueryParameters) throws(DomainError) {
        self.init()
        from = try query["from"].map { text throws(DomainError) in try Self.bound(text, name: "from") }
        to = try query["to"].map { text throws(DomainError) in try Self.bound(text, name: "to") }
        if let name = query["timezone"] {
            timezone = try TimeZoneName.validate(name)
        }
        if let text = query["interval"] {
            guard let interval = StatsInterval(rawValue: text) else {
                throw .invalid("invalid_interval", "interval must be hour, day, week or month")
            }
            self.interval = interval
        }
        let filterTexts = query.all("filter")
        guard filterTexts.count <= Self.maximumFilters else {
            throw .invalid("invalid_filter", "at most \(Self.maximumFilters) filters may be combined; this request has \(filterTexts.count)")
        }
        for text in filterTexts {
            filters.append(try StatsFilter.parse(text))
        }
        switch query["compare"] {
        case nil, "previous": compare = true
        case "none": compare = false
        default: throw .invalid("invalid_compare", "compare must be previous or none")
        }
        limit = try QueryLimit.parse(query["limit"], default: Self.defaultLimit, maximum: Self.maximumLimit)
    }

    /// `YYYY-MM-DD` (a real calendar date) or an RFC 3339 time.
    static func bound(_ text: String, name: String) throws(DomainError) -> Bound {
        if text.utf8.count == 10 {
            if let date = TimestampParser.civilDate(from: text), (1970...9999).contains(date.year) {
                return .date(text)
            }
            throw .invalid("invalid_date", "\(name) must be a date (YYYY-MM-DD) or an RFC 3339 time")
        }
        guard let instant = Timestamp.parse(text), instant.timeIntervalSince1970 >= 0,
              instant.timeIntervalSince1970 < 253_402_300_800 else {
            throw .invalid("invalid_date", "\(name) must be a date (YYYY-MM-DD) or an RFC 3339 time")
        }
        return .instant(instant)
    }
}
