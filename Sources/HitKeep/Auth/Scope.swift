/// What an API client token may do. A session cookie may do everything its user may.
public enum Scope: String, CaseIterable, Sendable, Comparable {
    case sitesRead = "sites:read"
    case sitesWrite = "sites:write"
    case statsRead = "stats:read"
    case ingestWrite = "ingest:write"
    case userRead = "user:read"

    public static func < (left: Scope, right: Scope) -> Bool { left.rawValue < right.rawValue }
}
