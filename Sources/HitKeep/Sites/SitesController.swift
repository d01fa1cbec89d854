import Foundation

/// Sites (docs/API.md §7.1): listed, created, read, renamed and deleted.
enum SitesController {
    static func addRoutes(to router: inout Router<RouteHandler>) {
        router.add(.get, "/api/sites", list)
        router.add(.post, "/api/sites", create)
        router.add(.get, "/api/sites/{site_id}", show)
        router.add(.put, "/api/sites/{site_id}", update)
        router.add(.delete, "/api/sites/{site_id}", delete)
    }

    @Sendable static func list(_ request: Request, _ context: RequestContext) throws -> Response {
        let (_, sites) = try context.authenticate(request, .sessionOrToken(.sitesRead), reading: SiteStore.visibleSites)
        return .json(.array(sites.map(\.json)))
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
        let body = try JSONRequestBody(request, allowed: ["name", "timezone"])
        var updated = site
        if body.contains("name") {
            guard let name = try body.string("name") else { throw DomainError.invalid("invalid_name", "name must not be null") }
            updated.name = try SiteName.validate(name)
        }
        if body.contains("timezone") {
            guard let timezone = try body.string("timezone") else {
                throw DomainError.invalid("invalid_timezone", "timezone must not be null")
            }
            updated.timezone = try TimeZoneName.validate(timezone)
        }
        let changed = [("name", updated.name != site.name), ("timezone", updated.timezone != site.timezone)]
            .filter(\.1).map(\.0)
        try context.database.transaction {
            try context.database.query("UPDATE sites SET name = \(updated.name), timezone = \(updated.timezone) WHERE id = \(site.id)")
            try AuditLog.recordSiteChange("site.updated", site: site.id, by: principal, target: site.id,
                                          detail: changed.joined(separator: ", "), request: request, context: context)
        }
        return .json(updated.json)
    }

    @Sendable static func delete(_ request: Request, _ context: RequestContext) throws -> Response {
        let (principal, site) = try SiteStore.siteAndPrincipal(context.parameter("site_id"), for: request, .sessionOrToken(.sitesWrite),
                                                               requiring: .owner, context: context)
        try context.database.transaction {
            // Recorded first, while the site's admins are still there to be told.
            try AuditLog.recordSiteChange("site.deleted", site: site.id, by: principal, target: site.id,
                                          detail: site.domain, request: request, context: context)
            // Members, invitations, restrictions and analytics data go with it (ON DELETE CASCADE).
            try context.database.query("DELETE FROM sites WHERE id = \(site.id)")
        }
        return .noContent()
    }
}
