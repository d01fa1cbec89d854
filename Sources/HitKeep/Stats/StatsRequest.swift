import Foundation

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
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            if parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
               parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
               let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
               year >= 1970, year <= 9999, Self.isCalendarDate(year: year, month: month, day: day) {
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

    static func isCalendarDate(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }
}
