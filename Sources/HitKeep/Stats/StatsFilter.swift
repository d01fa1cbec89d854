import PostgresClient

/// One `filter=type:value` of a stats query. Filters are combined with AND; `(none)` matches the
/// events that have no value, as the top lists name them. The types are the registry's filters
/// (`StatsDimension.filters`).
public struct StatsFilter: Sendable, Equatable {
    public static let noneName = "(none)"
    /// The form of a filter: a type, a colon, a value (`parse` says what else a value must be).
    public static let pattern = "^(" + StatsDimension.filters.map(\.name).joined(separator: "|") + "):.+$"

    public var dimension: StatsDimension
    /// The stored value to match ('' for `(none)`).
    public var value: String

    public init(dimension: StatsDimension, value: String) {
        precondition(dimension.isFilter, "\(dimension.name) is not a filter")
        self.dimension = dimension
        self.value = value
    }

    /// ` AND column = value` for each filter, to follow a condition on `events`. The columns are
    /// the registry's: filters never put client text into SQL, only into parameters.
    ///
    /// With `valueIndexSite`, the site the events are read of, it adds that the page view's keys hold
    /// every filter value's, which lets PostgreSQL find the page views of selective filters through
    /// `events_values_idx` (migrations/0033) instead of reading every page view of the range.
    /// Empty values have no key.
    static func conditions(_ filters: [StatsFilter], valueIndexSite siteID: String? = nil) -> PostgresQuery {
        var conditions = PostgresQuery(unescaped: "")
        for filter in filters {
            conditions.append(" AND \(filter.dimension.columnSQL) = \(filter.value)")
        }
        let keyed = filters.filter { !$0.value.isEmpty }
        if let siteID, !keyed.isEmpty {
            let keys = keyed.map { "stat_value_key(\(siteID), \($0.dimension.nameLiteral), \($0.value))" as PostgresQuery }
            conditions.append(" AND \(valueKeys) @> ARRAY[\(PostgresQuery.joined(keys, separator: ", "))]")
        }
        return conditions
    }

    /// A page view's keys, as `events_values_idx` is built on them: the index's expression, which a
    /// condition must repeat for PostgreSQL to use the index, with the site and the columns of the
    /// filter types in the registry's order (the function's).
    static let valueKeys = PostgresQuery(unescaped: "event_value_keys(site_id, "
        + StatsDimension.filters.map(\.column).joined(separator: ", ") + ")")

    /// The filters as they read the events of the site with domain `siteDomain`: a dimension whose
    /// empty value stands for the domain (the hostname) stores the domain's own page views as ''.
    static func resolved(_ filters: [StatsFilter], siteDomain: String) -> [StatsFilter] {
        filters.map { filter in
            guard filter.dimension.empty == .siteDomain, filter.value == siteDomain else { return filter }
            return StatsFilter(dimension: filter.dimension, value: "")
        }
    }

    public static func parse(_ text: String) throws(DomainError) -> StatsFilter {
        guard let colon = text.firstIndex(of: ":") else {
            throw .invalid("invalid_filter", "filter must be type:value, e.g. path:/pricing")
        }
        let type = String(text[..<colon])
        let value = String(text[text.index(after: colon)...])
        guard let dimension = StatsDimension.filter(named: type) else {
            let types = StatsDimension.filters.map(\.name).joined(separator: ", ")
            throw .invalid("invalid_filter", "unknown filter type \"\(type.prefix(40))\"; use one of \(types)")
        }
        guard !value.isEmpty, value.utf8.count <= PageViewFields.maximumURLLength else {
            throw .invalid("invalid_filter", "filter \(type) needs a value of at most \(PageViewFields.maximumURLLength) bytes")
        }
        // No stored value has control characters (ingestion refuses them), and PostgreSQL refuses
        // a NUL in text outright: such a filter is a mistake, answered as one.
        guard !TextValidation.containsControlCharacters(value) else {
            throw .invalid("invalid_filter", "filter \(type) has a control character in its value")
        }
        if value == noneName {
            // Every page view has a host; the lists name the site's own by its domain, never `(none)`.
            guard dimension.empty != .siteDomain else {
                throw .invalid("invalid_filter", "every page view has a \(type); the site's own page views are \(type):<the site's domain>")
            }
            return StatsFilter(dimension: dimension, value: "")
        }
        return StatsFilter(dimension: dimension, value: try dimension.storedValue(filtering: value))
    }
}
