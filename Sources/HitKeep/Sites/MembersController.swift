import Foundation
import PostgresClient

/// Who else may see a site (API.md §4): owners and admins list, add and remove members.
enum MembersController {
    static func addRoutes(to router: inout Router<RouteHandler>) {
        router.add(.get, "/api/sites/{site_id}/members", list)
        router.add(.post, "/api/sites/{site_id}/members", add)
        router.add(.delete, "/api/sites/{site_id}/members/{user_id}", remove)
    }

    private static let memberColumns = """
        SELECT u.id AS user_id, u.email, u.name, m.role, m.created_at
        FROM site_members m JOIN users u ON u.id = m.user_id
        """

    private static func json(_ row: PostgresRow) throws -> JSON {
        .object([
            ("user_id", .string(try row.decode(String.self, "user_id"))),
            ("email", .string(try row.decode(String.self, "email"))),
            ("name", .string(try row.decode(String.self, "name"))),
            ("role", .string(try row.decode(String.self, "role"))),
            ("created_at", .time(try row.decode(Date.self, "created_at"))),
        ])
    }

    @Sendable static func list(_ request: Request, _ context: RequestContext) throws -> Response {
        let site = try SiteStore.site(context.parameter("site_id"), for: request, .sessionOnly, requiring: .admin, context: context)
        let rows = try context.database.query(memberColumns + " WHERE m.site_id = $1 ORDER BY m.created_at, u.id", [site.id])
        return .json(.array(try rows.map(json)))
    }

    @Sendable static func add(_ request: Request, _ context: RequestContext) throws -> Response {
        let site = try SiteStore.site(context.parameter("site_id"), for: request, .sessionOnly, requiring: .admin, context: context)
        let body = try JSONRequestBody(request, allowed: ["email", "role"])
        let email = try EmailAddress.validate(try body.requiredString("email", missingCode: "invalid_email"))
        let roleName = try body.requiredString("role", missingCode: "invalid_role")
        guard let role = SiteRole(rawValue: roleName), role != .owner else {
            throw HTTPProblem.badRequest("invalid_role", "role must be admin or viewer")
        }
        guard let user = try UserStore.find(email: email, on: context.database) else {
            throw HTTPProblem(.notFound, code: "user_not_found", detail: "no user has that email; they must have an account first")
        }
        let rows = try context.database.transaction {
            let inserted = try context.database.query("""
                INSERT INTO site_members (site_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT DO NOTHING RETURNING user_id
                """, [site.id, user.id, role.rawValue, context.now])
            guard !inserted.isEmpty else {
                throw HTTPProblem.conflict("already_member", "that user is a member of the site already")
            }
            return try context.database.query(memberColumns + " WHERE m.site_id = $1 AND m.user_id = $2", [site.id, user.id])
        }
        return .json(try json(rows[0]), status: .created)
    }

    @Sendable static func remove(_ request: Request, _ context: RequestContext) throws -> Response {
        let site = try SiteStore.site(context.parameter("site_id"), for: request, .sessionOnly, requiring: .admin, context: context)
        let userID = context.parameter("user_id")
        guard ULID.isValid(userID),
              let row = try context.database.query(
                  "SELECT role FROM site_members WHERE site_id = $1 AND user_id = $2", [site.id, userID]).first else {
            throw HTTPProblem.notFound("that user is not a member of the site")
        }
        if row["role"] == SiteRole.owner.rawValue {
            throw HTTPProblem.forbidden("the owner cannot be removed from their site")
        }
        try context.database.query("DELETE FROM site_members WHERE site_id = $1 AND user_id = $2", [site.id, userID])
        return .noContent()
    }
}
