/// What a client's request counts as in its usage (docs/API.md §6.8): the group of endpoints it
/// went to and the class of its status, 429 apart from the other 4xx. Each pair is one of the
/// scoreboard's `UsageCounters` counters.
enum EndpointGroup: String, CaseIterable {
    case stats, sites, ingest, token, other

    /// As stored in `api_client_usage.endpoint_group` and shown in usage responses.
    var name: String { rawValue }

    /// The group of a route pattern, e.g. `/api/sites/{site_id}/stats/breakdown` → stats.
    init(pattern: String) {
        if pattern.hasPrefix("/api/sites/{site_id}/stats") || pattern.hasPrefix("/api/stats/") {
            self = .stats
        } else if pattern.hasPrefix("/api/sites") {
            self = .sites
        } else if pattern.hasPrefix("/api/ingest/") || pattern == "/ingest" {
            self = .ingest
        } else if pattern == "/api/token" {
            self = .token
        } else {
            self = .other
        }
    }
}

enum StatusClass: String, CaseIterable {
    case success = "2xx", redirection = "3xx", clientError = "4xx", rateLimited = "429", serverError = "5xx"

    /// As stored in `api_client_usage.status_class` and shown in usage responses.
    var name: String { rawValue }

    init(status: Int) {
        switch status {
        case 429: self = .rateLimited
        case 500...: self = .serverError
        case 400..<500: self = .clientError
        case 300..<400: self = .redirection
        default: self = .success
        }
    }
}

/// The counter of a group and class among a usage entry's counters.
enum UsageCounter {
    static let count = EndpointGroup.allCases.count * StatusClass.allCases.count

    // Counters are laid out group by group, in the order the cases are declared.
    private static let groupOrdinals = Dictionary(uniqueKeysWithValues: EndpointGroup.allCases.enumerated().map { ($1, $0) })
    private static let statusOrdinals = Dictionary(uniqueKeysWithValues: StatusClass.allCases.enumerated().map { ($1, $0) })

    static func index(_ group: EndpointGroup, _ status: StatusClass) -> Int {
        groupOrdinals[group]! * StatusClass.allCases.count + statusOrdinals[status]!
    }

    static func parts(of index: Int) -> (EndpointGroup, StatusClass) {
        (EndpointGroup.allCases[index / StatusClass.allCases.count], StatusClass.allCases[index % StatusClass.allCases.count])
    }
}
