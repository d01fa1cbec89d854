import Foundation
import PostgresClient

/// Who is making a request: a person through their session cookie, or an API client through its
/// bearer token, acting for its owner.
public enum Principal: Sendable {
    case session(User, sessionHash: [UInt8])
    /// Only the grant: most token requests need no more of the owner than the id, so the owner's
    /// profile is read by the few endpoints that show it (`user(on:)`), not by every request.
    case apiClient(APIClientGrant)

    /// The person the request acts for: the signed-in user, or the token's owner; nil for a site's
    /// client, which acts for no person.
    public var userID: String? {
        switch self {
        case .session(let user, _): user.id
        case .apiClient(let grant): grant.owner.userID
        }
    }

    /// The profile of the person the request acts for. A session has it at hand; for a token it is
    /// read now. The owner cannot be missing unless deleted since the token was looked up, and
    /// deleting a user deletes their tokens: then the token is as unknown as on the next request.
    /// A site's client has no person; it cannot hold `user:read`, the scope that reaches here.
    func user(on database: some PostgresQuerying) throws -> User {
        switch self {
        case .session(let user, _):
            return user
        case .apiClient(let grant):
            guard let ownerID = grant.owner.userID else { throw Authenticator.insufficientScope(.userRead) }
            guard let owner = try UserStore.find(id: ownerID, on: database) else {
                throw Authenticator.invalidToken("invalid")
            }
            return owner
        }
    }

    /// The audit log's actor: `user` or `api_client`, with an id.
    var actor: (type: String, id: String?) {
        switch self {
        case .session(let user, _): ("user", user.id)
        case .apiClient(let grant): ("api_client", grant.clientID)
        }
    }

    /// The site that owns the request's API client, for a site's client; nil otherwise.
    var owningSiteID: String? {
        if case .apiClient(let grant) = self { return grant.owner.siteID }
        return nil
    }

    /// The API client whose list of sites (`api_client_sites`) limits what the request may see;
    /// nil for a session or a token that may use all of its owner's sites.
    var siteRestrictingClientID: String? {
        if case .apiClient(let grant) = self, grant.restrictedToSites { return grant.clientID }
        return nil
    }
}

/// What an API client token carries into a request: whose it is and whether it is limited to
/// particular sites. Its scopes are checked when it is looked up, against the one the endpoint needs.
public struct APIClientGrant: Sendable {
    public var clientID: String
    /// The user the client belongs to and acts for, or the site it belongs to.
    public var owner: APIClientOwner
    /// Whether the client may use only the sites listed for it, rather than every site its owner can
    /// access (always, for a site's client). The list itself is read by the queries that need it.
    public var restrictedToSites: Bool

    /// Whether the client acts for its owner with nothing restricting what it sees: the principal a
    /// read's member form (`PrincipalRead.memberBody`) is for.
    var actsAsMember: Bool { !restrictedToSites && owner.userID != nil }
}
