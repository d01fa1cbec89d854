import Foundation

/// `GET /api/user/audit-log`: the caller's security events, newest first: their account's, and
/// changes to the sites they own or administer.
enum AuditLogController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/user/audit-log", query: parameters, list)
    }

    static let defaultLimit = 50
    static let maximumLimit = 500
    static let parameters = [
        QueryParameterDefinition("limit", .integer(1...maximumLimit), default: .int(defaultLimit), "How many entries, newest first."),
    ]

    @Sendable static func list(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        let limit = try QueryLimit.parse(request.query["limit"], default: defaultLimit, maximum: maximumLimit)
        let rows = try context.database.query("""
            SELECT id, at, action, actor_type, actor_id, target_id, site_id, detail, ip, user_agent
            FROM audit_log WHERE user_id = \(principal.userID) ORDER BY at DESC, id DESC LIMIT \(limit)
            """)
        let entries = try rows.map { row -> JSON in
            .object([
                ("id", .string(try row.decode(String.self, "id"))),
                ("at", .time(try row.decode(Date.self, "at"))),
                ("action", .string(try row.decode(String.self, "action"))),
                ("actor", .object([
                    ("type", .string(try row.decode(String.self, "actor_type"))),
                    ("id", .optional(row["actor_id"], JSON.string)),
                ])),
                ("target_id", .optional(row["target_id"], JSON.string)),
                ("site_id", .optional(row["site_id"], JSON.string)),
                ("detail", .optional(row["detail"], JSON.string)),
                ("ip", .optional(row["ip"], JSON.string)),
                ("user_agent", .optional(row["user_agent"], JSON.string)),
            ])
        }
        return .json(.array(entries))
    }
}
