import Foundation

/// Settings → API Clients (docs/API.md §6.3). Managed with the session cookie only: a token can never
/// list, create, change or delete tokens.
enum APIClientsController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/user/api-clients", list)
        router.add(.post, "/api/user/api-clients", create)
        router.add(.get, "/api/user/api-clients/{client_id}", show)
        router.add(.put, "/api/user/api-clients/{client_id}", update)
        router.add(.delete, "/api/user/api-clients/{client_id}", delete)
        router.add(.delete, "/api/user/api-clients", deleteAll)
        router.add(.post, "/api/user/api-clients/{client_id}/rotate", rotate)
        router.add(.get, "/api/user/api-clients/{client_id}/usage", query: ["from", "to"], usage)
    }

    private static let notFound = DomainError.notFound("no such API client")

    @Sendable static func list(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        return .json(.array(try APIClientStore.list(ownerID: principal.userID, on: context.database).map { $0.json(now: context.now) }))
    }

    @Sendable static func show(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        guard let client = try APIClientStore.find(context.parameter("client_id"), ownerID: principal.userID,
                                                   on: context.database) else { throw notFound }
        return .json(client.json(now: context.now))
    }

    @Sendable static func create(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        let body = try JSONRequestBody(request, allowed: ["name", "description", "scopes", "site_ids", "expires_at", "expires_in_days",
                                                          APIClientSettings.rateLimitField])
        let name = try APIClientSettings.name(try body.requiredString("name", missingCode: "invalid_name"))
        let description = try APIClientSettings.description(try body.string("description") ?? "")
        let scopes = try body.stringArray("scopes").map(APIClientSettings.scopes) ?? Scope.allCases.sorted()
        let siteIDs = try body.stringArray("site_ids").map { ids throws(DomainError) in try APIClientSettings.siteIDs(ids) }
        let expiresAt = try APIClientSettings.expiry(at: try body.string("expires_at"), inDays: try body.integer("expires_in_days"),
                                                     now: context.now)
        let new = APIClientStore.New(name: name, description: description, scopes: scopes, siteIDs: siteIDs, expiresAt: expiresAt,
                                     rateLimitPerMinute: try APIClientSettings.rateLimit(in: body))
        let (client, token) = try APIClientIssuer.issue(new, by: AuditLog.Author(principal, request, context),
                                                        configuration: context.configuration, on: context.database)
        return .json(client.json(token: token, now: context.now), status: .created)
    }

    /// The client's requests per day (docs/API.md §6.7). A site-owned client's usage is the same
    /// answer, `ClientUsageStore.daily`, behind the site's own lookup of the client.
    @Sendable static func usage(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        guard let client = try APIClientStore.find(context.parameter("client_id"), ownerID: principal.userID,
                                                   on: context.database) else { throw notFound }
        let range = try UsageRange(query: request.query, now: context.now)
        return .json(try ClientUsageStore.daily(clientID: client.id, from: range.from, to: range.to, on: context.database))
    }

    @Sendable static func update(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        let id = context.parameter("client_id")
        guard try APIClientStore.find(id, ownerID: principal.userID, on: context.database) != nil else { throw notFound }
        let body = try JSONRequestBody(request, allowed: ["name", "description", "scopes", "site_ids", "expires_at",
                                                          APIClientSettings.rateLimitField])
        var changes = APIClientStore.Changes()
        if body.contains("name") {
            guard let name = try body.string("name") else { throw DomainError.invalid("invalid_name", "name must not be null") }
            changes.name = try APIClientSettings.name(name)
        }
        if body.contains("description") {
            changes.description = try APIClientSettings.description(try body.string("description") ?? "")
        }
        if body.contains("scopes") {
            guard let scopes = try body.stringArray("scopes") else {
                throw DomainError.invalid("invalid_scope", "scopes must not be null")
            }
            changes.scopes = try APIClientSettings.scopes(scopes)
        }
        if body.contains("site_ids") {
            let ids = try body.stringArray("site_ids")
            changes.siteIDs = .some(try ids.map { ids throws(DomainError) in try APIClientSettings.siteIDs(ids) })
        }
        if body.contains("expires_at") {
            changes.expiresAt = .some(try APIClientSettings.expiry(at: try body.string("expires_at"), inDays: nil, now: context.now))
        }
        changes.rateLimitPerMinute = try APIClientSettings.rateLimit(in: body)
        guard let client = try APIClientIssuer.update(id, with: changes, by: AuditLog.Author(principal, request, context),
                                                      configuration: context.configuration, on: context.database) else { throw notFound }
        return .json(client.json(now: context.now))
    }

    @Sendable static func rotate(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        let id = context.parameter("client_id")
        let body = try JSONRequestBody(request, allowed: ["grace_seconds"], emptyMeansNone: true)
        let grace = try body.integer("grace_seconds") ?? 0
        guard (0...86_400).contains(grace) else {
            throw DomainError.invalid("invalid_grace_seconds", "grace_seconds must be from 0 to 86400")
        }
        let (client, token) = try context.database.transaction {
            guard let client = try APIClientStore.find(id, ownerID: principal.userID, on: context.database) else { throw notFound }
            guard !client.isExpired(at: context.now) else {
                throw DomainError.conflict("client_expired", "this client has expired; create a new one")
            }
            let token = try APIClientStore.rotate(id, graceSeconds: grace, now: context.now, on: context.database)
            try AuditLog.record("api_client.rotated", by: principal, target: id, detail: client.name, request: request, context: context)
            guard let rotated = try APIClientStore.find(id, ownerID: principal.userID, on: context.database) else { throw notFound }
            return (rotated, token)
        }
        return .json(client.json(token: token, now: context.now))
    }

    @Sendable static func delete(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        guard try APIClientIssuer.revoke(context.parameter("client_id"), by: AuditLog.Author(principal, request, context),
                                         on: context.database) else { throw notFound }
        return .noContent()
    }

    /// "Revoke all": deletes every client of the signed-in user, so that no token of theirs works
    /// from the next request on (after a suspected break-in, say). Answers how many there were.
    @Sendable static func deleteAll(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        let count = try context.database.transaction {
            try APIClientIssuer.revokeAll(by: AuditLog.Author(principal, request, context), on: context.database)
        }
        return .json(.object([("revoked", .number(Double(count)))]))
    }
}
