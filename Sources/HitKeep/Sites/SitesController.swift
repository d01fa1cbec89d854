import Foundation

/// Sites (docs/API.md §7.1): listed, created, read, changed (name, time zone, retention) and deleted.
enum SitesController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/sites", list)
        router.add(.post, "/api/sites", create)
        router.add(.get, "/api/sites/{site_id}", show)
        router.add(.put, "/api/sites/{site_id}", update)
        router.add(.delete, "/api/sites/{site_id}", delete)
    }

    @Sendable static func list(_ request: Request, _ context: RequestContext) throws -> Response {
        .json(try visibleSites(for: request, .sessionOrToken(.sitesRead), context: context))
    }

    /// The sites the request's principal may see, newest first: the body of `GET /api/sites`, and
    /// what the MCP tool `list_sites` lists (docs/API.md §12).
    static func visibleSites(for request: Request, _ policy: AuthenticationPolicy, context: RequestContext) throws -> JSON {
        let (_, sites) = try context.authenticate(request, policy, reading: SiteStore.visibleSites)
        return .array(sites.map(\.json))
    }

    @Sendable static func create(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOrToken(.sitesWrite))
        let body = try JSONRequestBody(request, allowed: ["domain", "name", "timezone"])
        let domain = try body.requiredString("domain", missingCode: "invalid_domain")
        let (name, timezone) = (try body.string("name"), try body.string("timezone"))
        if principal.siteRestrictingClientID != nil {
            throw DomainError.forbidden("a token limited to particular sites cannot create sites")
        }
        let site = try SiteRegistration.register(domain: domain, name: name, timezone: timezone,
                                                 by: AuditLog.Author(principal, request, context), on: context.database)
        return .json(site.json, status: .created)
    }

    @Sendable static func show(_ request: Request, _ context: RequestContext) throws -> Response {
        let site = try SiteStore.site(context.parameter("site_id"), for: request, .sessionOrToken(.sitesRead), context: context)
        return .json(site.json)
    }

    @Sendable static func update(_ request: Request, _ context: RequestContext) throws -> Response {
        let (principal, site) = try SiteStore.siteAndPrincipal(context.parameter("site_id"), for: request, .sessionOrToken(.sitesWrite),
                                                               requiring: .admin, context: context)
        let body = try JSONRequestBody(request, allowed: ["name", "timezone", "retention_days"])
        var name: String?, timezone: String?, retentionDays: Int??
        if body.contains("name") {
            guard let given = try body.string("name") else { throw DomainError.invalid("invalid_name", "name must not be null") }
            name = given
        }
        if body.contains("timezone") {
            guard let given = try body.string("timezone") else {
                throw DomainError.invalid("invalid_timezone", "timezone must not be null")
            }
            timezone = given
        }
        if body.contains("retention_days") {
            retentionDays = .some(try body.integer("retention_days"))
        }
        let updated = try SiteMaintenance.update(site, name: name, timezone: timezone, retentionDays: retentionDays,
                                                 by: AuditLog.Author(principal, request, context), on: context.database)
        return .json(updated.json)
    }

    @Sendable static func delete(_ request: Request, _ context: RequestContext) throws -> Response {
        let (principal, site) = try SiteStore.siteAndPrincipal(context.parameter("site_id"), for: request, .sessionOrToken(.sitesWrite),
                                                               requiring: .owner, context: context)
        try SiteMaintenance.delete(site, by: AuditLog.Author(principal, request, context), on: context.database)
        return .noContent()
    }
}
