import Foundation
import PostgresClient

/// Sites as a principal may see them: through a membership, and for a token only within its site
/// restriction. A site outside both is indistinguishable from one that does not exist.
enum SiteStore {
    /// The sites the principal sees through the user's memberships, and for a token limited to
    /// particular sites only those listed for its client. The restriction is a condition that a NULL
    /// switches off: PostgreSQL tests the NULL before it would look at the client's list.
    ///
    /// A site's client (no user, limited to sites, with `principal.site_id`) holds one membership of
    /// its own: its site, as an admin. Within its scopes it may read and change the site and send it
    /// page views, but not delete it (the owner's right). That membership is a row made from the
    /// principal, not read from a table. A member's requests read `visibleToMember` instead, which
    /// has neither that row nor the restriction.
    private static let visible: PostgresQuery = """
        SELECT \(columns)
        FROM (SELECT site_id, role FROM site_members WHERE user_id = principal.user_id
              UNION ALL SELECT principal.site_id, 'admin' WHERE principal.site_id IS NOT NULL) m
        JOIN sites s ON s.id = m.site_id
        WHERE (principal.restricting_client_id IS NULL OR principal.site_id IS NOT NULL
               OR s.id IN (SELECT site_id FROM api_client_sites WHERE client_id = principal.restricting_client_id))
        """

    /// `visible` for a member (`PrincipalRead.memberBody`): their memberships alone.
    private static let visibleToMember: PostgresQuery = """
        SELECT \(columns)
        FROM site_members m JOIN sites s ON s.id = m.site_id
        WHERE m.user_id = principal.user_id
        """

    private static let columns: PostgresQuery = """
        s.id, s.domain, s.name, s.timezone, s.created_at, m.role, s.retention_days,
        nullif(s.raw_events_since, '-infinity') AS raw_events_since
        """

    /// Every site the principal may see, newest first.
    static let visibleSites = PrincipalRead(visible, member: visibleToMember, orderBy: "created_at DESC, id DESC",
                                            decode: Site.init(row:))

    /// The site `id`, if the principal may see it.
    private static func visibleSite(_ id: String) -> PrincipalRead<Site> {
        let id = possibleID(id)
        return PrincipalRead("\(visible) AND s.id = \(id)", member: "\(visibleToMember) AND s.id = \(id)", decode: Site.init(row:))
    }

    /// The site, if the principal may see it and holds at least `role` on it; otherwise 404
    /// `not_found` whether it exists or not, or 403 for too low a role.
    static func site(_ id: String, visibleTo principal: Principal, requiring role: SiteRole = .viewer,
                     on database: some PostgresQuerying) throws -> Site {
        try checked(visibleSite(id).rows(for: principal, on: database).first, requiring: role)
    }

    /// Authenticates the request and reads the site `id` as its principal sees it; for a bearer
    /// token, in the same statement as the token's lookup. Errors as `site(_:visibleTo:requiring:on:)`,
    /// after those of authentication.
    static func site(_ id: String, for request: Request, _ policy: AuthenticationPolicy, requiring role: SiteRole = .viewer,
                     context: RequestContext) throws -> Site {
        try siteAndPrincipal(id, for: request, policy, requiring: role, context: context).site
    }

    /// As `site(_:for:_:requiring:context:)`, with the principal, for a change to be audited.
    static func siteAndPrincipal(_ id: String, for request: Request, _ policy: AuthenticationPolicy,
                                 requiring role: SiteRole = .viewer, context: RequestContext) throws -> (principal: Principal, site: Site) {
        let (principal, sites) = try context.authenticate(request, policy, reading: visibleSite(id))
        return (principal, try checked(sites.first, requiring: role))
    }

    /// The site `id` as its owner sees it, with the owner's id; nil when there is no such site. For
    /// the command line, which acts for whoever owns what it names.
    static func withOwner(_ id: String, on database: some PostgresQuerying) throws -> (ownerID: String, site: Site)? {
        guard let ownerID: String = try database.query("SELECT owner_id FROM sites WHERE id = \(possibleID(id))").first?["owner_id"],
              let site = try visibleSite(id).rows(forUser: ownerID, on: database).first else { return nil }
        return (ownerID, site)
    }

    /// The id to look for: NULL, which matches no site, for text that cannot be a site's id.
    private static func possibleID(_ id: String) -> String? {
        ULID.isValid(id) ? id : nil
    }

    private static func checked(_ site: Site?, requiring role: SiteRole) throws -> Site {
        guard let site else { throw DomainError.notFound("no such site") }
        guard site.role >= role else {
            throw DomainError.forbidden("this needs the \(role.rawValue) role on the site; you are \(site.role.rawValue)")
        }
        return site
    }

    static func create(domain: String, name: String, timezone: String, ownerID: String, now: Date,
                       on database: some PostgresQuerying) throws -> Site {
        let id = ULID(date: now).description
        // ON CONFLICT rather than a caught error: a taken domain is an answer, not a server error to log.
        let inserted = try database.query("""
            INSERT INTO sites (id, domain, name, timezone, owner_id, created_at)
            VALUES (\(id), \(domain), \(name), \(timezone), \(ownerID), \(now))
            ON CONFLICT DO NOTHING RETURNING id
            """)
        guard !inserted.isEmpty else { throw DomainError.conflict("domain_taken", "\(domain) is registered already") }
        try database.query("INSERT INTO site_members (site_id, user_id, role, created_at) VALUES (\(id), \(ownerID), 'owner', \(now))")
        return try visibleSite(id).rows(forUser: ownerID, on: database)[0]
    }
}
