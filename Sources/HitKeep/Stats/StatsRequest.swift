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

    /// The query parameters `init(_:)` reads; any other is refused. The MCP tool `get_stats` takes
    /// them as its arguments (docs/API.md §12).
    public static let parameters: [QueryParameterDefinition] = [
        QueryParameterDefinition("from", .text(), """
            Start (inclusive): an RFC 3339 time, or a date (YYYY-MM-DD) meaning the start of that day in `timezone`. \
            Default: 30 days before `to`.
            """),
        QueryParameterDefinition("to", .text(), """
            End (exclusive): an RFC 3339 time, or a date (YYYY-MM-DD) meaning the end of that day in `timezone`. \
            Default: the end of the current hour.
            """),
        QueryParameterDefinition("timezone", .text(),
                                 "An IANA time zone name, for dates, days and chart buckets. Default: the site's time zone."),
        QueryParameterDefinition("interval", .oneOf(StatsInterval.allCases.map(\.rawValue)),
                                 "Chart step. Default: hour up to 2 days, month from 365 days, else day."),
        QueryParameterDefinition("filter", .text(pattern: StatsFilter.pattern), maximumCount: maximumFilters, """
            `type:value`, all must match. Types: \(StatsDimension.filters.map(\.name).joined(separator: ", ")). \
            `\(StatsFilter.noneName)` matches page views without a value.
            """),
        QueryParameterDefinition("compare", .oneOf(Comparison.allCases.map(\.rawValue)), default: .string(Comparison.previous.rawValue),
                                 "`previous`: also the previous period; `none`: leaves it out (`comparison` is null)."),
        QueryParameterDefinition("limit", .integer(1...maximumLimit), default: .int(defaultLimit), "Length of each top list."),
    ]
    public static let parameterNames = parameters.map(\.name)

    /// The values of `compare`.
    public enum Comparison: String, Sendable, CaseIterable {
        case previous
        case omitted = "none"
    }

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
        if let text = query["compare"] {
            guard let comparison = Comparison(rawValue: text) else {
                throw .invalid("invalid_compare", "compare must be previous or none")
            }
            compare = comparison == .previous
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
