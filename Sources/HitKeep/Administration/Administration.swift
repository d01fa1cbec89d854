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

    /// What a list command shows: named columns and one row of values per item, for a table or JSON.
    public struct Listing: Sendable {
        public let columns: [String]
        public let rows: [[JSON]]
    }

    public static func createUser(email: String, name: String, password: String, isAdmin: Bool,
                                  on connection: PostgresConnection) throws -> UserSummary {
        let account = try AccountRegistration.validate(email: email, name: name, password: password)
        let user = try connection.transaction {
            try AccountRegistration.register(account, isAdmin: isAdmin, from: .commandLine, at: Date(), on: connection)
        }
        return summary(user)
    }

    public static func listUsers(on connection: PostgresConnection) throws -> Listing {
        Listing(columns: ["id", "email", "admin", "created_at", "name"], rows: try UserStore.all(on: connection).map {
            [.string($0.id), .string($0.email), .bool($0.isAdmin), .time($0.createdAt), .string($0.name)]
        })
    }

    /// Deletes the account, with the sites it owns (and their data), its sessions and API clients.
    public static func deleteUser(email: String, on connection: PostgresConnection) throws {
        let user = try user(email, on: connection)
        try connection.query("DELETE FROM users WHERE id = \(user.id)")
    }

    /// Sets the account's password from the server (a person who lost theirs): every session ends,
    /// and with `revokingAPIClients` every API client too.
    public static func setPassword(email: String, password: String, revokingAPIClients: Bool,
                                   on connection: PostgresConnection) throws {
        let user = try user(email, on: connection)
        try PasswordPolicy.validate(password)
        try PasswordChange.apply(newPasswordHash: PasswordHasher.hash(password), keepingSession: nil,
                                 revokingAPIClients: revokingAPIClients, by: .commandLine(for: user.id, at: Date()),
                                 on: connection)
    }

    /// Creates a site owned by the user with `ownerEmail`; returns its id.
    public static func createSite(ownerEmail: String, domain: String, name: String?, timezone: String?,
                                  on connection: PostgresConnection) throws -> String {
        let owner = try user(ownerEmail, on: connection)
        return try SiteRegistration.register(domain: domain, name: name, timezone: timezone,
                                             by: .commandLine(for: owner.id, at: Date()), on: connection).id
    }

    /// Every site of the instance, oldest first; not those deleted whose rows are still being removed.
    public static func listSites(on connection: PostgresConnection) throws -> Listing {
        let rows = try connection.query("""
            SELECT s.id, s.domain, s.name, s.timezone, s.created_at, u.email AS owner_email
            FROM sites s JOIN users u ON u.id = s.owner_id
            WHERE NOT EXISTS (SELECT 1 FROM site_deletions d WHERE d.site_id = s.id)
            ORDER BY s.created_at, s.id
            """)
        return Listing(columns: ["id", "domain", "name", "timezone", "created_at", "owner_email"], rows: try rows.map { row in
            [.string(try row.decode(String.self, "id")), .string(try row.decode(String.self, "domain")),
             .string(try row.decode(String.self, "name")), .string(try row.decode(String.self, "timezone")),
             .time(try row.decode(Date.self, "created_at")), .string(try row.decode(String.self, "owner_email"))]
        })
    }

    /// Renames the site, moves it to another time zone or sets its retention (nil: unchanged), logged
    /// for its owner.
    public static func updateSite(id: String, name: String?, timezone: String?, retentionDays: Int?? = nil,
                                  on connection: PostgresConnection) throws {
        let (ownerID, site) = try ownedSite(id, on: connection)
        _ = try SiteMaintenance.update(site, name: name, timezone: timezone, retentionDays: retentionDays,
                                       by: .commandLine(for: ownerID, at: Date()), on: connection)
    }

    /// Deletes the site and everything recorded about it (its page views and rollups soon after, by
    /// the roll-up process: `SiteMaintenance.delete`).
    public static func deleteSite(id: String, on connection: PostgresConnection) throws {
        let (ownerID, site) = try ownedSite(id, on: connection)
        try SiteMaintenance.delete(site, by: .commandLine(for: ownerID, at: Date()), on: connection)
    }

    /// Creates an API client for the user with `ownerEmail` and returns its token, which is shown
    /// this once.
    public static func createClient(ownerEmail: String, name: String, scopes: [String], siteIDs: [String],
                                    expiresInDays: Int?, rateLimitPerMinute: Int? = nil, configuration: Configuration,
                                    on connection: PostgresConnection) throws -> (id: String, token: String) {
        let owner = try user(ownerEmail, on: connection)
        return try createClient(for: .user(owner.id), name: name, scopes: scopes, siteIDs: siteIDs.isEmpty ? nil : siteIDs,
                                expiresInDays: expiresInDays, rateLimitPerMinute: rateLimitPerMinute,
                                by: .commandLine(for: owner.id, at: Date()), configuration: configuration, on: connection)
    }

    /// Creates an API client owned by the site `siteID` and returns its token, which is shown this
    /// once. It is logged for the site's owners and admins; no person created it.
    public static func createSiteClient(siteID: String, name: String, scopes: [String], expiresInDays: Int?,
                                        rateLimitPerMinute: Int? = nil, configuration: Configuration,
                                        on connection: PostgresConnection) throws -> (id: String, token: String) {
        let (_, site) = try ownedSite(siteID, on: connection)
        return try createClient(for: .site(site.id), name: name, scopes: scopes, siteIDs: nil, expiresInDays: expiresInDays,
                                rateLimitPerMinute: rateLimitPerMinute, by: .commandLine(for: nil, at: Date()),
                                configuration: configuration, on: connection)
    }

    private static func createClient(for owner: APIClientOwner, name: String, scopes: [String], siteIDs: [String]?,
                                      expiresInDays: Int?, rateLimitPerMinute: Int?, by author: AuditLog.Author,
                                      configuration: Configuration,
                                      on connection: PostgresConnection) throws -> (id: String, token: String) {
        let new = APIClientStore.New(
            name: try APIClientSettings.name(name),
            description: "",
            scopes: scopes.isEmpty ? owner.defaultScopes : try APIClientSettings.scopes(scopes, for: owner),
            siteIDs: try siteIDs.map { ids throws(DomainError) in try APIClientSettings.siteIDs(ids) },
            expiresAt: try APIClientSettings.expiry(at: nil, inDays: expiresInDays, now: author.now),
            rateLimitPerMinute: try rateLimitPerMinute.map { limit throws(DomainError) in try APIClientSettings.rateLimit(limit) }
        )
        let (client, token) = try APIClientIssuer.issue(new, for: owner, by: author, configuration: configuration, on: connection)
        return (client.id, token)
    }

    /// The clients of the user with `ownerEmail`, newest first, as the API lists them (no token, no hash).
    public static func listClients(ownerEmail: String, on connection: PostgresConnection) throws -> Listing {
        try listClients(of: .user(try user(ownerEmail, on: connection).id), on: connection)
    }

    /// The clients the site `siteID` owns, newest first.
    public static func listSiteClients(siteID: String, on connection: PostgresConnection) throws -> Listing {
        try listClients(of: .site(try ownedSite(siteID, on: connection).site.id), on: connection)
    }

    private static func listClients(of owner: APIClientOwner, on connection: PostgresConnection) throws -> Listing {
        let columns = APIClient.fieldNames
        return Listing(columns: columns, rows: try APIClientStore.list(owner: owner, on: connection).map { client in
            let object = client.json()
            return columns.map { object[$0] ?? .null }
        })
    }

    /// Deletes the client `id` of the user with `ownerEmail`; its tokens stop working at once.
    public static func deleteClient(id: String, ownerEmail: String, on connection: PostgresConnection) throws {
        let owner = try user(ownerEmail, on: connection)
        guard try APIClientIssuer.revoke(id, of: .user(owner.id), by: .commandLine(for: owner.id, at: Date()), on: connection) else {
            throw DomainError(.notFound, code: "client_not_found", detail: "\(ownerEmail) has no API client \(id)")
        }
    }

    /// Deletes the client `id` of the site `siteID`; its tokens stop working at once.
    public static func deleteSiteClient(id: String, siteID: String, on connection: PostgresConnection) throws {
        let (_, site) = try ownedSite(siteID, on: connection)
        guard try APIClientIssuer.revoke(id, of: .site(site.id), by: .commandLine(for: nil, at: Date()), on: connection) else {
            throw DomainError(.notFound, code: "client_not_found", detail: "site \(siteID) has no API client \(id)")
        }
    }

    private static func ownedSite(_ id: String, on connection: PostgresConnection) throws -> (ownerID: String, site: Site) {
        guard let found = try SiteStore.withOwner(id, on: connection) else {
            throw DomainError(.notFound, code: "site_not_found", detail: "no site has the id \(id)")
        }
        return found
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
