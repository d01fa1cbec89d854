import Foundation
import PostgresClient

/// What the command line does to accounts, sites and API clients, with the same validation and
/// storage as the API. Each operation is one transaction.
public enum Administration {
    public struct UserSummary: Sendable {
        public let id: String
        public let email: String
        public let name: String
        public let isAdmin: Bool
        public let createdAt: Date
    }

    public static func createUser(email: String, name: String, password: String, isAdmin: Bool,
                                  on connection: PostgresConnection) throws -> UserSummary {
        let account = try AccountRegistration.validate(email: email, name: name, password: password)
        let user = try connection.transaction {
            try AccountRegistration.register(account, isAdmin: isAdmin, from: .commandLine, at: Date(), on: connection)
        }
        return summary(user)
    }

    public static func listUsers(on connection: PostgresConnection) throws -> [UserSummary] {
        try UserStore.all(on: connection).map(summary)
    }

    /// Creates a site owned by the user with `ownerEmail`; returns its id.
    public static func createSite(ownerEmail: String, domain: String, name: String?, timezone: String?,
                                  on connection: PostgresConnection) throws -> String {
        let owner = try user(ownerEmail, on: connection)
        return try SiteRegistration.register(domain: domain, name: name, timezone: timezone,
                                             by: .commandLine(for: owner.id, at: Date()), on: connection).id
    }

    /// Creates an API client and returns its token, which is shown this once.
    public static func createClient(ownerEmail: String, name: String, scopes: [String], siteIDs: [String],
                                    expiresInDays: Int?, configuration: Configuration,
                                    on connection: PostgresConnection) throws -> (id: String, token: String) {
        let owner = try user(ownerEmail, on: connection)
        let now = Date()
        let new = APIClientStore.New(
            name: try APIClientSettings.name(name),
            description: "",
            scopes: scopes.isEmpty ? Scope.allCases.sorted() : try APIClientSettings.scopes(scopes),
            siteIDs: siteIDs.isEmpty ? nil : try APIClientSettings.siteIDs(siteIDs),
            expiresAt: try APIClientSettings.expiry(at: nil, inDays: expiresInDays, now: now, configuration: configuration)
        )
        let (client, token) = try APIClientIssuer.issue(new, by: .commandLine(for: owner.id, at: now), on: connection)
        return (client.id, token)
    }

    /// The owner's clients, each as the JSON object the API returns.
    public static func listClients(ownerEmail: String, on connection: PostgresConnection) throws -> [String] {
        let owner = try user(ownerEmail, on: connection)
        return try APIClientStore.list(ownerID: owner.id, on: connection).map { String(decoding: $0.json().encoded(), as: UTF8.self) }
    }

    private static func user(_ email: String, on connection: PostgresConnection) throws -> User {
        guard let user = try UserStore.find(email: email, on: connection) else {
            throw DomainError(.notFound, code: "user_not_found", detail: "no user has the email \(email)")
        }
        return user
    }

    private static func summary(_ user: User) -> UserSummary {
        UserSummary(id: user.id, email: user.email, name: user.name, isAdmin: user.isAdmin, createdAt: user.createdAt)
    }
}
