import Foundation
import PostgresClient

/// People invited to a site by email (docs/API.md §7.2). Adding a member answers alike whether the email has
/// an account or not, so that the members endpoint cannot be used to find out who has one: the
/// invitation waits in `site_invitations` and becomes a membership when its person signs in, makes a
/// request with their session, or has their account created. Until then the site's admins see the
/// email and role only, never a name.
enum SiteInvitations {
    struct Invitation {
        let email: String
        let role: SiteRole
        let createdAt: Date
    }

    /// Invites `email` to the site with `role`; 409 if its person is a member or invited already.
    static func invite(_ email: String, to siteID: String, role: SiteRole, invitedBy userID: String?, now: Date,
                       on database: some PostgresQuerying) throws -> Invitation {
        let rows = try database.query("""
            WITH member AS (
                SELECT 1 FROM site_members m JOIN users u ON u.id = m.user_id
                WHERE m.site_id = \(siteID) AND lower(u.email) = lower(\(email))
            ), invited AS (
                INSERT INTO site_invitations (site_id, email, role, invited_by, created_at)
                SELECT \(siteID), lower(\(email)), \(role.rawValue), \(userID), \(now) WHERE NOT EXISTS (SELECT 1 FROM member)
                ON CONFLICT DO NOTHING
                RETURNING email, created_at
            )
            SELECT EXISTS (SELECT 1 FROM member) AS is_member, invited.email, invited.created_at
            FROM (SELECT 1) one LEFT JOIN invited ON true
            """)
        if try rows[0].decode(Bool.self, "is_member") {
            throw DomainError.conflict("already_member", "that person is a member of the site already")
        }
        guard let stored = try rows[0].decodeIfPresent(String.self, "email"),
              let createdAt = try rows[0].decodeIfPresent(Date.self, "created_at") else {
            throw DomainError.conflict("already_invited", "that email is invited to the site already")
        }
        return Invitation(email: stored, role: role, createdAt: createdAt)
    }

    /// The site's open invitations, oldest first.
    static func pending(for siteID: String, on database: some PostgresQuerying) throws -> [Invitation] {
        try database.query(
            "SELECT email, role, created_at FROM site_invitations WHERE site_id = \(siteID) ORDER BY created_at, email").map { row in
            Invitation(email: try row.decode(String.self, "email"),
                       role: SiteRole(rawValue: try row.decode(String.self, "role")) ?? .viewer,
                       createdAt: try row.decode(Date.self, "created_at"))
        }
    }

    /// Withdraws the invitation of `email`; false if there was none.
    static func withdraw(_ email: String, from siteID: String, on database: some PostgresQuerying) throws -> Bool {
        try database.query("DELETE FROM site_invitations WHERE site_id = \(siteID) AND email = lower(\(email)) RETURNING email").count > 0
    }

    /// Turns the user's open invitations into memberships, each recorded in the security log of the
    /// user and of the site's owners and admins. Part of the caller's transaction.
    static func accept(forUser userID: String, from origin: AuditLog.Origin, at now: Date,
                       on database: some PostgresQuerying) throws {
        let joined = try database.query("""
            WITH accepted AS (
                DELETE FROM site_invitations i USING users u
                WHERE u.id = \(userID) AND i.email = lower(u.email)
                RETURNING i.site_id, i.role
            )
            INSERT INTO site_members (site_id, user_id, role, created_at)
            SELECT site_id, \(userID), role, \(now) FROM accepted
            ON CONFLICT DO NOTHING
            RETURNING site_id, role
            """)
        for row in joined {
            try AuditLog.recordSiteChange("site.member_added", site: try row.decode(String.self, "site_id"),
                                          actor: ("user", userID), actingFor: userID, target: userID,
                                          detail: try row.decode(String.self, "role"), from: origin, at: now, on: database)
        }
    }
}
