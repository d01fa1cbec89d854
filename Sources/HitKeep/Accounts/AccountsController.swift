import Foundation
import HTTPTypes

/// First-run setup, sign-in and sign-out (docs/API.md §4.1–4.3).
enum AccountsController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.post, "/api/initial-user", createInitialUser)
        router.add(.post, "/api/login", login)
        router.add(.post, "/api/logout", logout)
    }

    @Sendable static func createInitialUser(_ request: Request, _ context: RequestContext) throws -> Response {
        try CSRFGuard.check(request, configuration: context.configuration)
        let body = try JSONRequestBody(request, allowed: ["email", "password", "name"])
        let email = try body.requiredString("email", missingCode: "invalid_email")
        let password = try body.requiredString("password", missingCode: "invalid_password")
        let account = try AccountRegistration.validate(email: email, name: try body.string("name") ?? "", password: password)
        guard try !UserStore.exists(on: context.database) else { throw setupCompleted }
        let (user, session) = try context.database.transaction {
            // Two set-up requests at once: the lock makes the second see the first's user.
            try context.database.query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            guard try !UserStore.exists(on: context.database) else { throw setupCompleted }
            let user = try AccountRegistration.register(account, isAdmin: true, from: AuditLog.Origin(request),
                                                        at: context.now, on: context.database)
            let session = try SessionStore.create(for: user.id, userAgent: userAgent(request), context: context)
            try AuditLog.record("login.succeeded", for: user.id, actor: ("user", user.id), request: request, context: context)
            return (user, session)
        }
        var response = Response.json(user.json, status: .created)
        response.headers.append(HTTPField(name: .setCookie, value: SessionCookie.setCookie(
            session.secret, maxAge: session.maxAge, configuration: context.configuration)))
        return response
    }

    @Sendable static func login(_ request: Request, _ context: RequestContext) throws -> Response {
        try CSRFGuard.check(request, configuration: context.configuration)
        let body = try JSONRequestBody(request, allowed: ["email", "password"])
        let typedEmail = try body.requiredString("email", missingCode: "invalid_email")
        let password = try body.requiredString("password", missingCode: "invalid_password")
        let email = try EmailAddress.validate(typedEmail)
        let emailKey = EmailAddress.key(email)
        let address = request.remoteAddress ?? ""
        try LoginThrottle.reserve(emailKey: emailKey, address: address, context: context)

        let credentials = try UserStore.credentials(email: email, on: context.database)
        // Unknown email and wrong password cost the same Argon2 verification and get the same answer.
        let passwordFits = password.utf8.count <= PasswordPolicy.maximumBytes
        let verified = PasswordHasher.verify(passwordFits ? password : "", against: credentials?.passwordHash ?? PasswordHasher.decoy)
        guard let credentials, verified, passwordFits else {
            // The reservation stands as the recorded failure.
            if let user = credentials?.user {
                // The actor is whoever typed the password: a person not known to be the user.
                try AuditLog.record("login.failed", for: user.id, actor: ("user", nil), request: request, context: context)
            }
            throw HTTPProblem(.unauthorized, code: "invalid_credentials", detail: "the email or password is incorrect")
        }
        let session = try context.database.transaction {
            try LoginThrottle.clear(emailKey: emailKey, address: address, context: context)
            let session = try SessionStore.create(for: credentials.user.id, userAgent: userAgent(request), context: context)
            try AuditLog.record("login.succeeded", for: credentials.user.id, actor: ("user", credentials.user.id),
                                request: request, context: context)
            try SiteInvitations.accept(forUser: credentials.user.id, from: AuditLog.Origin(request), at: context.now,
                                       on: context.database)
            return session
        }
        var response = Response.json(.object([("status", .string("ok")), ("user", credentials.user.json)]))
        response.headers.append(HTTPField(name: .setCookie, value: SessionCookie.setCookie(
            session.secret, maxAge: session.maxAge, configuration: context.configuration)))
        return response
    }

    @Sendable static func logout(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOnly)
        guard case .session(_, let hash) = principal else { throw DomainError.notFound() }
        try context.database.transaction {
            try SessionStore.delete(hash: hash, context: context)
            try AuditLog.record("logout", by: principal, request: request, context: context)
        }
        var response = Response.noContent()
        response.headers.append(HTTPField(name: .setCookie, value: SessionCookie.clearCookie(configuration: context.configuration)))
        return response
    }

    private static let setupCompleted = HTTPProblem(.forbidden, code: "setup_completed",
                                                    detail: "the first user exists already; sign in instead")

    static func userAgent(_ request: Request) -> String {
        request.headers[.userAgent] ?? ""
    }
}
