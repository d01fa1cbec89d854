import Foundation

/// The signed-in user: `GET /api/user` and `PUT /api/user/password`.
enum UserController {
    static func addRoutes(to router: inout Router<RouteHandler>) {
        router.add(.get, "/api/user", show)
        router.add(.put, "/api/user/password", changePassword)
    }

    @Sendable static func show(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOrToken(.userRead))
        return .json(try principal.user(on: context.database).json)
    }

    @Sendable static func changePassword(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        let body = try JSONRequestBody(request, allowed: ["current_password", "new_password"])
        let current = try body.requiredString("current_password", missingCode: "invalid_password")
        let new = try body.requiredString("new_password", missingCode: "invalid_password")
        try PasswordPolicy.validate(new, field: "new_password")
        guard let storedHash = try UserStore.passwordHash(userID: principal.userID, on: context.database),
              current.utf8.count <= PasswordPolicy.maximumBytes,
              PasswordHasher.verify(current, against: storedHash) else {
            throw HTTPProblem.forbidden("the current password is incorrect", code: "invalid_credentials")
        }
        let newHash = PasswordHasher.hash(new)
        guard case .session(_, let sessionHash) = principal else { throw HTTPProblem.notFound() }
        try context.database.transaction {
            try context.database.query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                                       [principal.userID, newHash, context.now])
            try SessionStore.deleteOthers(userID: principal.userID, keeping: sessionHash, context: context)
            try AuditLog.record("password.changed", by: principal, request: request, context: context)
        }
        return .noContent()
    }
}
