/// What a client's request counts as in its usage (docs/API.md §6.8): the group of endpoints it
/// went to and the class of its status, 429 apart from the other 4xx. Each pair is one of the
/// scoreboard's `UsageCounters` counters.
enum EndpointGroup: Int, CaseIterable {
    case stats, sites, ingest, token, other

    var name: String {
        switch self {
        case .stats: "stats"
        case .sites: "sites"
        case .ingest: "ingest"
        case .token: "token"
        case .other: "other"
        }
    }

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

enum StatusClass: Int, CaseIterable {
    case success, redirection, clientError, rateLimited, serverError

    var name: String {
        switch self {
        case .success: "2xx"
        case .redirection: "3xx"
        case .clientError: "4xx"
        case .rateLimited: "429"
        case .serverError: "5xx"
        }
    }

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

    static func index(_ group: EndpointGroup, _ status: StatusClass) -> Int {
        group.rawValue * StatusClass.allCases.count + status.rawValue
    }

    static func parts(of index: Int) -> (EndpointGroup, StatusClass) {
        (EndpointGroup(rawValue: index / StatusClass.allCases.count)!, StatusClass(rawValue: index % StatusClass.allCases.count)!)
    }
}
