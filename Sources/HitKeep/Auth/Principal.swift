import Foundation

/// Who is making a request: a person through their session cookie, or an API client through its
/// bearer token, acting for its owner.
public enum Principal: Sendable {
    case session(User, sessionHash: [UInt8])
    case apiClient(User, APIClientGrant)

    public var user: User {
        switch self {
        case .session(let user, _), .apiClient(let user, _): user
        }
    }

    /// The audit log's actor: `user` or `api_client`, with an id.
    var actor: (type: String, id: String?) {
        switch self {
        case .session(let user, _): ("user", user.id)
        case .apiClient(_, let grant): ("api_client", grant.clientID)
        }
    }

    /// The sites a token is limited to; nil for a session or an unrestricted token.
    var siteRestriction: [String]? {
        if case .apiClient(_, let grant) = self { return grant.siteIDs }
        return nil
    }
}

/// What an API client token carries into a request: its scopes and its site restriction.
public struct APIClientGrant: Sendable {
    public var clientID: String
    public var scopes: Set<Scope>
    /// nil: every site the owner can access.
    public var siteIDs: [String]?
}
