import Foundation

/// The signed-in user: `GET /api/user` and `PUT /api/user/password`.
enum UserController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/user", show)
        router.add(.put, "/api/user/password", changePassword)
    }

    @Sendable static func show(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOrToken(.userRead))
        return .json(try principal.user(on: context.database).json)
    }

    @Sendable static func changePassword(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        guard case .session(let user, let sessionHash) = principal else { throw DomainError.notFound() }
        let body = try JSONRequestBody(request, allowed: ["current_password", "new_password", "revoke_api_clients"])
        let current = try body.requiredString("current_password", missingCode: "invalid_password")
        let new = try body.requiredString("new_password", missingCode: "invalid_password")
        let revokeAPIClients = try body.bool("revoke_api_clients") ?? false
        try PasswordPolicy.validate(new, field: "new_password")
        try PasswordChangeThrottle.reserve(userID: user.id, context: context)
        guard let storedHash = try UserStore.passwordHash(userID: user.id, on: context.database),
              current.utf8.count <= PasswordPolicy.maximumBytes,
              PasswordHasher.verify(current, against: storedHash) else {
            // The reservation stands as the recorded failure.
            try AuditLog.record("password.change_failed", by: principal, request: request, context: context)
            throw DomainError.forbidden("the current password is incorrect", code: "invalid_credentials")
        }
        try PasswordChange.apply(newPasswordHash: PasswordHasher.hash(new), keepingSession: sessionHash,
                                 revokingAPIClients: revokeAPIClients, by: AuditLog.Author(principal, request, context),
                                 on: context.database)
        return .noContent()
    }
}
