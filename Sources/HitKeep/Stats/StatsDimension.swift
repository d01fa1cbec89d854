import PostgresClient

/// A dimension of the stats: something page views are counted by (`path`, `referrer`, `device`, …)
/// or sessions are (their entry and exit pages). `StatsDimension.all` is the one list of them: the
/// filter parser, the SQL of every stats source, the response's top lists and the dashboard
/// (through `GET /api/stats/dimensions`) all read it, so a dimension is added or renamed here only.
public struct StatsDimension: Sendable, Hashable {
    /// Where a dimension's values come from, and so which SQL counts them.
    public enum Source: Sendable, Hashable {
        /// A column of `events`: page views per value. The rollup trigger (migrations/0004) counts
        /// it in `dimension_counts` with `dimension` = the dimension's name.
        case event(column: String)
        /// The `events` column of a session's first page view in the range: sessions per value.
        /// The rollups count it in `entry_exit_counts` with `kind` = the dimension's name.
        case sessionEntry(column: String)
        /// The same for a session's last page view in the range.
        case sessionExit(column: String)
    }

    /// What the values are, so that a client can show them: a country code spelled out as the
    /// country's name, a language tag as the language's.
    public enum Values: String, Sendable, Hashable {
        case path, host
        /// A fixed lowercase word (`desktop`, `mobile`, `tablet`).
        case keyword
        /// A product's name (`Chrome`, `iOS`).
        case name
        /// ISO 3166-1 alpha-2.
        case countryCode = "country_code"
        /// BCP 47.
        case languageTag = "language_tag"
        case text
    }

    /// How the dimension's top list appears: its key in the stats response, the tab's label, and
    /// the card it shares with related lists on the dashboard.
    public struct TopList: Sendable, Hashable {
        public let key: String
        public let label: String
        public let group: String
    }

    /// The API name: the filter type (`filter=path:/pricing`), and the name the rollups store the
    /// counts under.
    public let name: String
    public let source: Source
    /// A value's name for people, singular: "Page", "UTM source".
    public let label: String
    public let values: Values
    /// Whether `filter=name:value` selects page views by it.
    public let isFilter: Bool
    /// Its top list in the stats response, if it has one.
    public let list: TopList?
    /// What an empty value stands for, and so how lists name it.
    public var empty: Empty = .none

    /// What the empty value ('' in `events`) of a dimension means.
    public enum Empty: Sendable, Hashable {
        /// No value: named `(none)`.
        case none
        /// The site's own domain (a page view's host when it is the site's): named by the domain.
        case siteDomain
    }

    /// The `events` column the values are read from.
    public var column: String {
        switch source {
        case .event(let column), .sessionEntry(let column), .sessionExit(let column): column
        }
    }

    /// The filter that selects page views by one of this dimension's values: itself, or for entry
    /// and exit pages the filter on their column (`path`); nil when there is none.
    public var valueFilter: StatsDimension? {
        isFilter ? self : Self.filters.first { $0.column == column }
    }

    /// Whether its values are counted per page view from a column of `events` (`dimension_counts`).
    public var isEventColumn: Bool {
        if case .event = source { return true }
        return false
    }

    /// For a session-end dimension, the order of a session's page views that puts the one whose
    /// value counts first (the earliest for the entry page, the latest for the exit page; the id
    /// breaks ties between equal times), as SQL; nil for an event column.
    var sessionEndOrder: PostgresQuery? {
        switch source {
        case .event: nil
        case .sessionEntry: "occurred_at, id"
        case .sessionExit: "occurred_at DESC, id DESC"
        }
    }
}

extension StatsDimension {
    // The registry. Names, list keys and filter types are public API (docs/API.md §10): keep them.
    public static let path = event("path", "Page", .path, list: ("top_pages", "Top pages", "Pages"))
    public static let entry = StatsDimension(name: "entry", source: .sessionEntry(column: "path"), label: "Entry page",
                                             values: .path, isFilter: false,
                                             list: TopList(key: "top_landing_pages", label: "Entry pages", group: "Pages"))
    public static let exit = StatsDimension(name: "exit", source: .sessionExit(column: "path"), label: "Exit page",
                                            values: .path, isFilter: false,
                                            list: TopList(key: "top_exit_pages", label: "Exit pages", group: "Pages"))
    public static let referrer = event("referrer", "Referrer", .host, column: "referrer_host",
                                       list: ("top_referrers", "Referrers", "Sources"))
    public static let device = event("device", "Device", .keyword, list: ("top_devices", "Devices", "Devices"))
    public static let browser = event("browser", "Browser", .name, list: ("top_browsers", "Browsers", "Devices"))
    public static let os = event("os", "Operating system", .name, list: ("top_os", "Operating systems", "Devices"))
    public static let country = event("country", "Country", .countryCode, list: ("top_countries", "Countries", "Locations"))
    public static let language = event("language", "Language", .languageTag, list: ("top_languages", "Languages", "Locations"))
    public static let utmSource = event("utm_source", "UTM source", .text, list: ("top_utm_sources", "Source", "Sources"))
    public static let utmMedium = event("utm_medium", "UTM medium", .text, list: ("top_utm_mediums", "Medium", "Sources"))
    public static let utmCampaign = event("utm_campaign", "UTM campaign", .text,
                                          list: ("top_utm_campaigns", "Campaign", "Sources"))
    /// The host a page was viewed on: the site's domain, or a subdomain counted for it (0018).
    public static let hostname = event("hostname", "Hostname", .host, list: ("top_hostnames", "Hostnames", "Pages"),
                                       empty: .siteDomain)

    /// Every dimension, in the order of the response's top lists.
    public static let all: [StatsDimension] = [
        path, entry, exit, referrer, device, browser, os, country, language, utmSource, utmMedium, utmCampaign, hostname,
    ]
    /// The filter types, in order.
    public static let filters = all.filter(\.isFilter)
    /// The dimensions with a top list, in the response's order.
    public static let lists = all.filter { $0.list != nil }
    /// The listed dimensions counted per page view from an `events` column.
    static let eventLists = lists.filter(\.isEventColumn)

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The filter type called `name`, if there is one.
    public static func filter(named name: String) -> StatsDimension? {
        byName[name].flatMap { $0.isFilter ? $0 : nil }
    }

    public static func named(_ name: String) -> StatsDimension? {
        byName[name]
    }

    /// A filterable, listed dimension of page views, read from `events.column` (the name when nil).
    private static func event(_ name: String, _ label: String, _ values: Values, column: String? = nil,
                              list: (key: String, label: String, group: String), empty: Empty = .none) -> StatsDimension {
        StatsDimension(name: name, source: .event(column: column ?? name), label: label, values: values, isFilter: true,
                       list: TopList(key: list.key, label: list.label, group: list.group), empty: empty)
    }
}

// MARK: - Filter values

extension StatsDimension {
    /// The only values the dimension ever holds, where ingestion picks them from a fixed set (the
    /// user-agent classifier's); nil where any text may appear.
    public var knownValues: [String]? {
        switch self {
        case Self.device: UserAgent.DeviceClass.allCases.map(\.rawValue)
        case Self.browser: UserAgent.Browser.allCases.map(\.rawValue)
        case Self.os: UserAgent.OperatingSystem.allCases.map(\.rawValue)
        default: nil
        }
    }

    /// The value, as stored, that a filter on this dimension written `text` matches: a known value
    /// in any case (`device:Mobile`, `browser:firefox`), a country code in either case, a hostname as
    /// ingestion stores it (lower-cased, without `www.`, as sites are registered). A value the
    /// dimension can never hold is refused with the ones it can, rather than matching nothing.
    func storedValue(filtering text: String) throws(DomainError) -> String {
        if let known = knownValues {
            let wanted = text.lowercased()
            guard let match = known.first(where: { $0.lowercased() == wanted }) else {
                throw .invalid("invalid_filter", "\(name) is one of \(known.joined(separator: ", ")) or \(StatsFilter.noneName), not \"\(text.prefix(40))\"")
            }
            return match
        }
        if values == .countryCode {
            guard text.utf8.count == 2, text.utf8.allSatisfy({ ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") }) else {
                throw .invalid("invalid_filter", "country is a two-letter ISO 3166-1 code such as DE, or \(StatsFilter.noneName)")
            }
            return text.uppercased()
        }
        if self == Self.hostname {
            let host = text.lowercased()
            return host.hasPrefix("www.") ? String(host.dropFirst(4)) : host
        }
        return text
    }

    /// How lists name the empty value on the site with domain `siteDomain`.
    func emptyName(siteDomain: String) -> String {
        switch empty {
        case .none: StatsFilter.noneName
        case .siteDomain: siteDomain
        }
    }
}

// MARK: - SQL generated from the registry

extension StatsDimension {
    /// The column as SQL: registry text, never a client's.
    var columnSQL: PostgresQuery { PostgresQuery(unescaped: column) }

    /// The name as an SQL string literal, for a `list` column of counts. Registry names are
    /// lowercase letters and underscores (a unit test holds them to it), so quoting is all it takes.
    var nameLiteral: PostgresQuery { PostgresQuery(unescaped: "'" + name + "'") }
}
