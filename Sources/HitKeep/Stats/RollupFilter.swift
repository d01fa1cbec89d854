import PostgresClient

/// The page views a question to the filtered rollups (migrations/0012) is about.
enum RollupFilter: Equatable {
    /// Every page view: the rollups' filter 0.
    case none
    /// One filter value's page views.
    case value(StatsFilter)
    /// Two or more filters on visitor profiles' dimensions: the page views of every profile that
    /// matches them all (`VisitorProfiles`, migrations/0024).
    case profiles([StatsFilter])

    /// The rollup's view of `filters`, or nil when it has none: several filters not all on a
    /// profile's dimensions.
    init?(_ filters: [StatsFilter]) {
        switch filters.count {
        case 0: self = .none
        case 1: self = .value(filters[0])
        default:
            guard VisitorProfiles.cover(filters) else { return nil }
            self = .profiles(filters)
        }
    }

    /// The path of a single path filter: its sessions enter and leave on it, and the rollups keep
    /// no entry and exit pages under it.
    var path: String? {
        if case .value(let filter) = self, filter.dimension.column == "path" { return filter.value }
        return nil
    }

    /// `SELECT id` of `filter`'s value in `stat_values`: no row when no event ever had it.
    static func number(of filter: StatsFilter) -> PostgresQuery {
        """
        SELECT id FROM stat_values
        WHERE dimension = \(filter.dimension.name) AND value_md5 = decode(md5(\(filter.value)), 'hex') AND value = \(filter.value)
        """
    }

    var filters: [StatsFilter] {
        switch self {
        case .none: []
        case .value(let filter): [filter]
        case .profiles(let filters): filters
        }
    }

    /// The rollups' filter numbers whose rows add up to the page views selected: `[0]`, a value's
    /// number in `stat_values` (looked up through its MD5, the unique index), or the matching
    /// profiles' numbers; empty when no event ever had such values.
    func keys(on database: any PostgresQuerying) throws -> [Int] {
        switch self {
        case .none:
            return [0]
        case .value(let filter):
            return try database.query(Self.number(of: filter)).map { try $0.decode(Int.self, "id") }
        case .profiles(let filters):
            return try VisitorProfiles.ids(matching: filters, on: database)
        }
    }
}
