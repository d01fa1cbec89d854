import Foundation
import PostgresClient

/// Sites as a principal may see them: through a membership, and for a token only within its site
/// restriction. A site outside both is indistinguishable from one that does not exist.
enum SiteStore {
    /// The sites a user sees through their memberships.
    private static let visible = """
        SELECT s.id, s.domain, s.name, s.timezone, s.created_at, m.role
        FROM site_members m JOIN sites s ON s.id = m.site_id
        WHERE m.user_id = $1
        """
    /// The same, for a token limited to particular sites: only those listed for its client, `$2`.
    /// A statement of its own rather than a condition that a NULL switches off, so that the other
    /// requests do not pay for the restriction in planning or execution.
    private static let visibleThroughClient = visible
        + " AND s.id IN (SELECT site_id FROM api_client_sites WHERE client_id = $2)"
    private static let visibleByID = visible + " AND s.id = $2"
    private static let visibleThroughClientByID = visibleThroughClient + " AND s.id = $3"

    /// Every site the principal may see, newest first. The restriction is a condition that a NULL
    /// switches off: the statement is planned once, and PostgreSQL tests the NULL before it would
    /// look at the client's list.
    static let visibleSites = PrincipalRead("""
        SELECT s.id, s.domain, s.name, s.timezone, s.created_at, m.role
        FROM site_members m JOIN sites s ON s.id = m.site_id
        WHERE m.user_id = principal.user_id
          AND (principal.restricting_client_id IS NULL
               OR s.id IN (SELECT site_id FROM api_client_sites WHERE client_id = principal.restricting_client_id))
        """, orderBy: "created_at DESC, id DESC")

    /// The site, if the principal may see it; otherwise 404 `not_found`, whether it exists or not.
    static func site(_ id: String, visibleTo principal: Principal, on database: some PostgresQuerying) throws -> Site {
        guard ULID.isValid(id) else { throw HTTPProblem.notFound("no such site") }
        let rows = if let clientID = principal.siteRestrictingClientID {
            try database.query(visibleThroughClientByID, [principal.userID, clientID, id])
        } else {
            try database.query(visibleByID, [principal.userID, id])
        }
        guard let row = rows.first else { throw HTTPProblem.notFound("no such site") }
        return try Site(row: row)
    }

    /// The site, if the principal may see it and holds at least `role` on it (403 otherwise).
    static func site(_ id: String, visibleTo principal: Principal, requiring role: SiteRole,
                     on database: some PostgresQuerying) throws -> Site {
        let site = try site(id, visibleTo: principal, on: database)
        guard site.role >= role else {
            throw HTTPProblem.forbidden("this needs the \(role.rawValue) role on the site; you are \(site.role.rawValue)")
        }
        return site
    }

    enum CreateFailure: Error {
        case domainTaken
    }

    static func create(domain: String, name: String, timezone: String, ownerID: String, now: Date,
                       on database: some PostgresQuerying) throws -> Site {
        let id = ULID(date: now).description
        // ON CONFLICT rather than a caught error: a taken domain is an answer, not a server error to log.
        let inserted = try database.query("""
            INSERT INTO sites (id, domain, name, timezone, owner_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT DO NOTHING RETURNING id
            """, [id, domain, name, timezone, ownerID, now])
        guard !inserted.isEmpty else { throw CreateFailure.domainTaken }
        try database.query("INSERT INTO site_members (site_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
                           [id, ownerID, now])
        let rows = try database.query(visibleByID, [ownerID, id])
        return try Site(row: rows[0])
    }
}
