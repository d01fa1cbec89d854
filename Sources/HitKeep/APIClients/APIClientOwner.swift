import PostgresClient

/// Whom an API client belongs to (docs/API.md §6.1). A user's client acts for that person, on every
/// site they can access unless limited; a site's client acts for no person, reaches that site
/// alone, and outlives whoever created it.
public enum APIClientOwner: Sendable, Equatable {
    case user(String)
    case site(String)

    var userID: String? {
        if case .user(let id) = self { return id }
        return nil
    }

    var siteID: String? {
        if case .site(let id) = self { return id }
        return nil
    }

    /// The condition on `api_clients c` that picks this owner's clients, through the owner's index.
    var condition: PostgresQuery {
        switch self {
        case .user(let id): "c.user_id = \(id)"
        case .site(let id): "c.site_id = \(id)"
        }
    }

    /// The scopes a client gets when it names none: all, except that a site's client cannot hold
    /// `user:read`, as it has no user to read.
    var defaultScopes: [Scope] {
        Scope.allCases.filter(allows).sorted()
    }

    func allows(_ scope: Scope) -> Bool {
        if case .site = self { return scope != .userRead }
        return true
    }

    /// The `owner` member of the client object.
    var json: JSON {
        switch self {
        case .user(let id): .object([("type", .string("user")), ("id", .string(id))])
        case .site(let id): .object([("type", .string("site")), ("id", .string(id))])
        }
    }
}
