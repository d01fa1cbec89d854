import Foundation

/// Settings → API Clients (docs/API.md §6.3), and a site's API clients (§6.5): one set of handlers
/// over the clients of an owner, which the path names. Managed with the session cookie only: a token
/// can never list, create, change or delete tokens.
enum APIClientsController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        addRoutes(to: &router, under: "/api/user/api-clients", owner: signedInUser)
        router.add(.delete, "/api/user/api-clients", deleteAll)
        addRoutes(to: &router, under: "/api/sites/{site_id}/api-clients", owner: managedSite)
    }

    /// Finds the signed-in person and the owner whose clients a path holds, or refuses.
    private typealias OwnerResolution = @Sendable (Request, RequestContext) throws -> (principal: Principal, owner: APIClientOwner)

    private static func addRoutes(to router: inout Router<Endpoint>, under base: String, owner: @escaping OwnerResolution) {
        router.add(.get, base) { request, context in try list(request, context, owner(request, context)) }
        router.add(.post, base) { request, context in try create(request, context, owner(request, context)) }
        router.add(.get, "\(base)/{client_id}") { request, context in try show(request, context, owner(request, context)) }
        router.add(.put, "\(base)/{client_id}") { request, context in try update(request, context, owner(request, context)) }
        router.add(.delete, "\(base)/{client_id}") { request, context in try delete(request, context, owner(request, context)) }
        router.add(.post, "\(base)/{client_id}/rotate") { request, context in try rotate(request, context, owner(request, context)) }
        router.add(.get, "\(base)/{client_id}/usage", query: usageParameters) { request, context in
            try usage(request, context, owner(request, context))
        }
    }

    /// The range of a usage question (§6.8).
    private static let usageParameters = [
        QueryParameterDefinition("from", .text(), "The first UTC day, YYYY-MM-DD; by default 29 days before `to`."),
        QueryParameterDefinition("to", .text(), "The last UTC day, YYYY-MM-DD; by default today."),
    ]

    /// `/api/user/api-clients`: the signed-in person's own clients.
    @Sendable private static func signedInUser(_ request: Request, _ context: RequestContext) throws
        -> (principal: Principal, owner: APIClientOwner) {
        let principal = try context.authenticate(request, .sessionOnly)
        guard let userID = principal.userID else { throw notFound }
        return (principal, .user(userID))
    }

    /// `/api/sites/{site_id}/api-clients`: the site's clients, for its owners and admins. A viewer is
    /// told what a stranger is: that there is nothing here.
    @Sendable private static func managedSite(_ request: Request, _ context: RequestContext) throws
        -> (principal: Principal, owner: APIClientOwner) {
        let (principal, site) = try SiteStore.siteAndPrincipal(context.parameter("site_id"), for: request, .sessionOnly,
                                                               context: context)
        guard site.role >= .admin else { throw DomainError.notFound("no such site") }
        return (principal, .site(site.id))
    }

    private static let notFound = DomainError.notFound("no such API client")

    private static func list(_ request: Request, _ context: RequestContext,
                             _ resolved: (principal: Principal, owner: APIClientOwner)) throws -> Response {
        .json(.array(try APIClientStore.list(owner: resolved.owner, on: context.database).map { $0.json(now: context.now) }))
    }

    private static func show(_ request: Request, _ context: RequestContext,
                             _ resolved: (principal: Principal, owner: APIClientOwner)) throws -> Response {
        guard let client = try APIClientStore.find(context.parameter("client_id"), owner: resolved.owner,
                                                   on: context.database) else { throw notFound }
        return .json(client.json(now: context.now))
    }

    private static func create(_ request: Request, _ context: RequestContext,
                               _ resolved: (principal: Principal, owner: APIClientOwner)) throws -> Response {
        let owner = resolved.owner
        let body = try JSONRequestBody(request, allowed: ["name", "description", "scopes", "site_ids", "expires_at", "expires_in_days",
                                                          APIClientSettings.rateLimitField])
        let name = try APIClientSettings.name(try body.requiredString("name", missingCode: "invalid_name"))
        let description = try APIClientSettings.description(try body.string("description") ?? "")
        let scopes = try body.stringArray("scopes").map { names throws(DomainError) in try APIClientSettings.scopes(names, for: owner) }
            ?? owner.defaultScopes
        let siteIDs = try siteRestriction(body, for: owner)
        let expiresAt = try APIClientSettings.expiry(at: try body.string("expires_at"), inDays: try body.integer("expires_in_days"),
                                                     now: context.now)
        let new = APIClientStore.New(name: name, description: description, scopes: scopes, siteIDs: siteIDs ?? nil, expiresAt: expiresAt,
                                     rateLimitPerMinute: try APIClientSettings.rateLimit(in: body))
        let (client, token) = try APIClientIssuer.issue(new, for: owner, by: AuditLog.Author(resolved.principal, request, context),
                                                        configuration: context.configuration, on: context.database)
        return .json(client.json(token: token, now: context.now), status: .created)
    }

    /// The client's requests per day (docs/API.md §6.8), for its owner.
    private static func usage(_ request: Request, _ context: RequestContext,
                              _ resolved: (principal: Principal, owner: APIClientOwner)) throws -> Response {
        guard let client = try APIClientStore.find(context.parameter("client_id"), owner: resolved.owner,
                                                   on: context.database) else { throw notFound }
        let range = try UsageRange(query: request.query, now: context.now)
        return .json(try ClientUsageStore.daily(clientID: client.id, from: range.from, to: range.to, on: context.database))
    }

    /// `site_ids` as the body gives it: outer nil when absent, inner nil for null (every site). A
    /// site's client reaches its own site alone, which is what null ("all of the owner's sites") and
    /// a list of just that site both say: they change nothing, and any other site is refused as a
    /// site the owner cannot reach is for a user's client (403).
    private static func siteRestriction(_ body: JSONRequestBody, for owner: APIClientOwner) throws -> [String]?? {
        guard body.contains("site_ids") else { return nil }
        let ids = try body.stringArray("site_ids").map { ids throws(DomainError) in try APIClientSettings.siteIDs(ids) }
        if let siteID = owner.siteID {
            guard ids == nil || ids == [siteID] else {
                throw DomainError.forbidden("a site's API client reaches its own site only: omit site_ids or give [\"\(siteID)\"]")
            }
            return nil
        }
        return .some(ids)
    }

    private static func update(_ request: Request, _ context: RequestContext,
                               _ resolved: (principal: Principal, owner: APIClientOwner)) throws -> Response {
        let owner = resolved.owner
        let id = context.parameter("client_id")
        guard try APIClientStore.find(id, owner: owner, on: context.database) != nil else { throw notFound }
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
            changes.scopes = try APIClientSettings.scopes(scopes, for: owner)
        }
        changes.siteIDs = try siteRestriction(body, for: owner)
        if body.contains("expires_at") {
            changes.expiresAt = .some(try APIClientSettings.expiry(at: try body.string("expires_at"), inDays: nil, now: context.now))
        }
        changes.rateLimitPerMinute = try APIClientSettings.rateLimit(in: body)
        guard let client = try APIClientIssuer.update(id, of: owner, with: changes, by: AuditLog.Author(resolved.principal, request, context),
                                                      configuration: context.configuration, on: context.database) else { throw notFound }
        return .json(client.json(now: context.now))
    }

    private static func rotate(_ request: Request, _ context: RequestContext,
                               _ resolved: (principal: Principal, owner: APIClientOwner)) throws -> Response {
        let owner = resolved.owner
        let id = context.parameter("client_id")
        let body = try JSONRequestBody(request, allowed: ["grace_seconds"], emptyMeansNone: true)
        let grace = try body.integer("grace_seconds") ?? 0
        guard (0...86_400).contains(grace) else {
            throw DomainError.invalid("invalid_grace_seconds", "grace_seconds must be from 0 to 86400")
        }
        let author = AuditLog.Author(resolved.principal, request, context)
        let (client, token) = try context.database.transaction {
            guard let client = try APIClientStore.find(id, owner: owner, on: context.database) else { throw notFound }
            guard !client.isExpired(at: context.now) else {
                throw DomainError.conflict("client_expired", "this client has expired; create a new one")
            }
            let token = try APIClientStore.rotate(id, graceSeconds: grace, now: context.now, on: context.database)
            try APIClientIssuer.record("api_client.rotated", client, by: author, on: context.database)
            guard let rotated = try APIClientStore.find(id, owner: owner, on: context.database) else { throw notFound }
            return (rotated, token)
        }
        return .json(client.json(token: token, now: context.now))
    }

    private static func delete(_ request: Request, _ context: RequestContext,
                               _ resolved: (principal: Principal, owner: APIClientOwner)) throws -> Response {
        guard try APIClientIssuer.revoke(context.parameter("client_id"), of: resolved.owner,
                                         by: AuditLog.Author(resolved.principal, request, context),
                                         on: context.database) else { throw notFound }
        return .noContent()
    }

    /// "Revoke all": deletes every client of the signed-in user, so that no token of theirs works
    /// from the next request on (after a suspected break-in, say). Answers how many there were. A
    /// site's clients are not the user's and stay.
    @Sendable static func deleteAll(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        let count = try context.database.transaction {
            try APIClientIssuer.revokeAll(by: AuditLog.Author(principal, request, context), on: context.database)
        }
        return .json(.object([("revoked", .number(Double(count)))]))
    }
}
