import Foundation

/// The query parameters of `GET /api/sites/{id}/stats/breakdown`, checked (docs/API.md §10.5). The
/// range, time zone and filters are the stats endpoint's and are read by `StatsRequest` itself, so
/// that the two endpoints can never disagree on what `from=2026-10-25` or `filter=device:Mobile` means.
struct BreakdownRequest: Sendable, Equatable {
    /// Which numbers a breakdown can be ordered by: the columns of a row.
    enum Metric: String, Sendable, CaseIterable {
        case pageviews, visitors
        case bounceRate = "bounce_rate"
        case averageSessionDuration = "avg_session_duration"
    }

    enum Order: String, Sendable, CaseIterable {
        case asc, desc
    }

    enum Format: String, Sendable, CaseIterable {
        case json, csv
    }

    /// The query parameters `init(_:accept:)` reads; any other is refused by the router. The MCP
    /// tool `get_breakdown` takes them, but for `format`, as its arguments (docs/API.md §12).
    static let parameters: [QueryParameterDefinition] = [dimensionParameter] + statsParameters + ownParameters
    private static let dimensionParameter = QueryParameterDefinition(
        "dimension", .oneOf(StatsDimension.breakdowns.map(\.breakdownName)), required: true,
        "What to break the page views down by: a filter type, `landing` (the page a session entered by) or `exit`.")
    private static let statsParameters: [QueryParameterDefinition] = StatsRequest.parameters.filter {
        statsParameterNames.contains($0.name)
    }
    private static let ownParameters: [QueryParameterDefinition] = [
        QueryParameterDefinition("order_by", .oneOf(Metric.allCases.map(\.rawValue)), default: .string(Metric.pageviews.rawValue),
                                 "The number the rows are ordered by; rows with the same number by name, ascending in byte order."),
        QueryParameterDefinition("order", .oneOf(Order.allCases.map(\.rawValue)), default: .string(Order.desc.rawValue),
                                 "Direction of `order_by`."),
        QueryParameterDefinition("page_size", .integer(1...maximumPageSize), default: .int(defaultPageSize), "Rows per page."),
        QueryParameterDefinition("cursor", .text(minimumLength: 1),
                                 "The previous page's `next_cursor`, unchanged, with the same question; leave it out for the first page."),
        QueryParameterDefinition("format", .oneOf(Format.allCases.map(\.rawValue)),
                                 "`csv`: every row as CSV. Default: JSON, or CSV when the `Accept` header prefers `text/csv`."),
    ]
    static let parameterNames = parameters.map(\.name)
    /// What `StatsRequest` reads of them.
    private static let statsParameterNames: Set = ["from", "to", "timezone", "filter"]

    static let defaultPageSize = 100
    static let maximumPageSize = 1000

    var dimension: StatsDimension
    /// `from`, `to`, `timezone` and the filters; the rest of it keeps its defaults.
    var stats: StatsRequest
    var orderBy: Metric
    var order: Order
    var pageSize: Int
    var cursor: String?
    var format: Format

    init(dimension: StatsDimension, stats: StatsRequest = StatsRequest(), orderBy: Metric = .pageviews, order: Order = .desc,
         pageSize: Int = defaultPageSize, cursor: String? = nil, format: Format = .json) {
        self.dimension = dimension
        self.stats = stats
        self.orderBy = orderBy
        self.order = order
        self.pageSize = pageSize
        self.cursor = cursor
        self.format = format
    }

    /// `accept` is the request's `Accept` header: `text/csv` asks for CSV as `format=csv` does.
    init(_ query: QueryParameters, accept: String? = nil) throws(DomainError) {
        guard let name = query["dimension"] else {
            throw .invalid("invalid_dimension", "dimension is required; use one of \(Self.dimensionList)")
        }
        guard let dimension = StatsDimension.breakdown(named: name) else {
            throw .invalid("invalid_dimension", "unknown dimension \"\(name.prefix(40))\"; use one of \(Self.dimensionList)")
        }
        self.init(dimension: dimension)
        stats = try StatsRequest(QueryParameters(pairs: query.pairs.filter { Self.statsParameterNames.contains($0.name) }))
        if let text = query["order_by"] {
            guard let metric = Metric(rawValue: text) else {
                throw .invalid("invalid_order", "order_by must be one of \(Metric.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            orderBy = metric
        }
        if let text = query["order"] {
            guard let order = Order(rawValue: text) else {
                throw .invalid("invalid_order", "order must be asc or desc")
            }
            self.order = order
        }
        if let text = query["page_size"] {
            guard let size = Int(text), (1...Self.maximumPageSize).contains(size) else {
                throw .invalid("invalid_page_size", "page_size must be a whole number from 1 to \(Self.maximumPageSize)")
            }
            pageSize = size
        }
        if let text = query["cursor"] {
            // Checked against the question once the site is known (`BreakdownCursor`).
            guard !text.isEmpty else { throw .invalid("invalid_cursor", "cursor is empty; leave it out for the first page") }
            cursor = text
        }
        switch query["format"] {
        case nil: format = Self.acceptsCSV(accept) ? .csv : .json
        case let text?:
            guard let format = Format(rawValue: text) else {
                throw .invalid("invalid_format", "format must be json or csv")
            }
            self.format = format
        }
        if format == .csv {
            // CSV holds every row in one answer: there are no pages to ask for.
            for name in ["page_size", "cursor"] where query[name] != nil {
                throw .invalid("invalid_parameter", "\(name) does not apply to CSV, which holds every row; leave it out")
            }
        }
    }

    private static var dimensionList: String {
        StatsDimension.breakdowns.map(\.breakdownName).joined(separator: ", ")
    }

    /// Whether an `Accept` header prefers `text/csv`: it lists it with a quality above zero, and no
    /// JSON type (or `*/*`) with a higher one. Anything else (no header, `*/*`, a browser's list)
    /// gets JSON.
    static func acceptsCSV(_ accept: String?) -> Bool {
        guard let accept else { return false }
        var csv: Double?
        var json = 0.0
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";")
            guard let type = parts.first?.trimmingCharacters(in: .whitespaces).lowercased() else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2, pair[0].lowercased() == "q", let value = Double(pair[1]) { quality = value }
            }
            switch type {
            case "text/csv": csv = max(csv ?? 0, quality)
            case "application/json", "application/*", "*/*": json = max(json, quality)
            default: break
            }
        }
        guard let csv, csv > 0 else { return false }
        return csv >= json
    }
}

extension StatsDimension {
    /// The dimensions a breakdown can be asked for: the filter types and the session ends (entry and
    /// exit pages), in the registry's order.
    static let breakdowns: [StatsDimension] = all.filter { $0.isFilter || !$0.isEventColumn }

    /// Its name in a breakdown's `dimension`: the registry's name, except that sessions' entry
    /// pages are called `landing` there, as the stats response's `top_landing_pages` calls them.
    var breakdownName: String {
        if case .sessionEntry = source { return "landing" }
        return name
    }

    /// The breakdown dimension called `name`: its breakdown name, or its registry name (so that
    /// `entry`, as `GET /api/stats/dimensions` lists it, works too).
    static func breakdown(named name: String) -> StatsDimension? {
        breakdowns.first { $0.breakdownName == name || $0.name == name }
    }
}
