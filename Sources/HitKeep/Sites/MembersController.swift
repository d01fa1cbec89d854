import Foundation
import PostgresClient

/// Who else may see a site (docs/API.md §7.2): owners and admins list members and invitations, invite
/// people by email, change a member's role and remove members. Every change goes into the security
/// log of whoever made it and of the site's owners and admins.
enum MembersController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/sites/{site_id}/members", list)
        router.add(.post, "/api/sites/{site_id}/members", add)
        router.add(.put, "/api/sites/{site_id}/members/{user_id}", changeRole)
        router.add(.delete, "/api/sites/{site_id}/members/{user_id}", remove)
        router.add(.delete, "/api/sites/{site_id}/invitations/{email}", withdrawInvitation)
    }

    private static let memberColumns: PostgresQuery = """
        SELECT u.id AS user_id, u.email, u.name, m.role, m.created_at
        FROM site_members m JOIN users u ON u.id = m.user_id
        """

    private static func json(_ row: PostgresRow) throws -> JSON {
        .object([
            ("user_id", .string(try row.decode(String.self, "user_id"))),
            ("email", .string(try row.decode(String.self, "email"))),
            ("name", .string(try row.decode(String.self, "name"))),
            ("role", .string(try row.decode(String.self, "role"))),
            ("status", .string("member")),
            ("created_at", .time(try row.decode(Date.self, "created_at"))),
        ])
    }

    /// An invitation, in the members' shape: no user id and no name until it is accepted.
    private static func json(_ invitation: SiteInvitations.Invitation) -> JSON {
        .object([
            ("user_id", .null),
            ("email", .string(invitation.email)),
            ("name", .null),
            ("role", .string(invitation.role.rawValue)),
            ("status", .string("invited")),
            ("created_at", .time(invitation.createdAt)),
        ])
    }

    /// Members first, in the order they joined, then open invitations.
    @Sendable static func list(_ request: Request, _ context: RequestContext) throws -> Response {
        let site = try SiteStore.site(context.parameter("site_id"), for: request, .sessionOnly, requiring: .admin, context: context)
        let rows = try context.database.query("\(memberColumns) WHERE m.site_id = \(site.id) ORDER BY m.created_at, u.id")
        let invitations = try SiteInvitations.pending(for: site.id, on: context.database)
        return .json(.array(try rows.map(json) + invitations.map(json)))
    }

    /// Invites the email: the same answer whether it belongs to an account or not.
    @Sendable static func add(_ request: Request, _ context: RequestContext) throws -> Response {
        let (principal, site) = try SiteStore.siteAndPrincipal(context.parameter("site_id"), for: request, .sessionOnly,
                                                               requiring: .admin, context: context)
        let body = try JSONRequestBody(request, allowed: ["email", "role"])
        let email = try EmailAddress.validate(try body.requiredString("email", missingCode: "invalid_email"))
        let role = try grantableRole(try body.requiredString("role", missingCode: "invalid_role"))
        let invitation = try context.database.transaction {
            let invitation = try SiteInvitations.invite(email, to: site.id, role: role, invitedBy: principal.userID,
                                                        now: context.now, on: context.database)
            try AuditLog.recordSiteChange("site.member_invited", site: site.id, by: principal,
                                          detail: "\(invitation.email) as \(role.rawValue)", request: request, context: context)
            return invitation
        }
        return .json(json(invitation), status: .created)
    }

    @Sendable static func changeRole(_ request: Request, _ context: RequestContext) throws -> Response {
        let (principal, site) = try SiteStore.siteAndPrincipal(context.parameter("site_id"), for: request, .sessionOnly,
                                                               requiring: .admin, context: context)
        let body = try JSONRequestBody(request, allowed: ["role"])
        let role = try grantableRole(try body.requiredString("role", missingCode: "invalid_role"))
        let userID = context.parameter("user_id")
        let rows = try context.database.transaction {
            let previous = try memberRole(userID, of: site.id, context: context)
            if previous == .owner { throw DomainError.forbidden("the owner's role cannot be changed") }
            if previous != role {
                try context.database.query("UPDATE site_members SET role = \(role.rawValue) WHERE site_id = \(site.id) AND user_id = \(userID)")
                try AuditLog.recordSiteChange("site.member_role_changed", site: site.id, by: principal, target: userID,
                                              detail: "\(previous.rawValue) → \(role.rawValue)", request: request, context: context)
            }
            return try context.database.query("\(memberColumns) WHERE m.site_id = \(site.id) AND m.user_id = \(userID)")
        }
        return .json(try json(rows[0]))
    }

    @Sendable static func remove(_ request: Request, _ context: RequestContext) throws -> Response {
        let (principal, site) = try SiteStore.siteAndPrincipal(context.parameter("site_id"), for: request, .sessionOnly,
                                                               requiring: .admin, context: context)
        let userID = context.parameter("user_id")
        try context.database.transaction {
            let role = try memberRole(userID, of: site.id, context: context)
            if role == .owner { throw DomainError.forbidden("the owner cannot be removed from their site") }
            // Recorded first, so that a removed admin's own log has it too.
            try AuditLog.recordSiteChange("site.member_removed", site: site.id, by: principal, target: userID,
                                          detail: role.rawValue, request: request, context: context)
            try context.database.query("DELETE FROM site_members WHERE site_id = \(site.id) AND user_id = \(userID)")
        }
        return .noContent()
    }

    @Sendable static func withdrawInvitation(_ request: Request, _ context: RequestContext) throws -> Response {
        let (principal, site) = try SiteStore.siteAndPrincipal(context.parameter("site_id"), for: request, .sessionOnly,
                                                               requiring: .admin, context: context)
        guard let email = EmailAddress.normalize(context.parameter("email")) else {
            throw DomainError.notFound("no invitation for that email")
        }
        try context.database.transaction {
            guard try SiteInvitations.withdraw(email, from: site.id, on: context.database) else {
                throw DomainError.notFound("no invitation for that email")
            }
            try AuditLog.recordSiteChange("site.invitation_withdrawn", site: site.id, by: principal,
                                          detail: EmailAddress.key(email), request: request, context: context)
        }
        return .noContent()
    }

    /// The role a member may be given: admin or viewer (a site has one owner, its creator).
    private static func grantableRole(_ name: String) throws(DomainError) -> SiteRole {
        guard let role = SiteRole(rawValue: name), role != .owner else {
            throw DomainError.invalid("invalid_role", "role must be admin or viewer")
        }
        return role
    }

    /// The member's role, locked for the rest of the transaction; 404 if they are not a member.
    private static func memberRole(_ userID: String, of siteID: String, context: RequestContext) throws -> SiteRole {
        guard ULID.isValid(userID),
              let row = try context.database.query(
                  "SELECT role FROM site_members WHERE site_id = \(siteID) AND user_id = \(userID) FOR UPDATE").first,
              let role = SiteRole(rawValue: try row.decode(String.self, "role")) else {
            throw DomainError.notFound("that user is not a member of the site")
        }
        return role
    }
}
