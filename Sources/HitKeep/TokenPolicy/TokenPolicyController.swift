/// `GET/PUT /api/admin/token-policy` and `GET /api/admin/token-policy/violations` (docs/API.md
/// §6.7): instance admins only, with the session cookie.
enum TokenPolicyController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/admin/token-policy", show)
        router.add(.put, "/api/admin/token-policy", replace)
        router.add(.get, "/api/admin/token-policy/violations", violations)
    }

    private static let fields = ["max_lifetime_days", "expiry_required", "allowed_scopes", "default_rate_limit_per_minute",
                                 "max_rate_limit_per_minute"]

    @Sendable static func show(_ request: Request, _ context: RequestContext) throws -> Response {
        try requireAdmin(request, context)
        return .json(try TokenPolicyStore.current(context.configuration, on: context.database).json())
    }

    /// The whole policy, every field required: a policy is judged as a whole (a maximum below the
    /// default is refused), so a partial one would be judged against what happens to be stored.
    @Sendable static func replace(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try requireAdmin(request, context)
        let body = try JSONRequestBody(request, allowed: Set(fields))
        if let missing = fields.first(where: { !body.contains($0) }) {
            throw DomainError.invalid("invalid_policy", "\(missing) is required (null for no maximum lifetime)")
        }
        guard let expiryRequired = try body.bool("expiry_required") else {
            throw DomainError.invalid("invalid_policy", "expiry_required must be true or false")
        }
        guard let scopes = try body.stringArray("allowed_scopes") else {
            throw DomainError.invalid("invalid_scope", "allowed_scopes must be a list of scopes")
        }
        let policy = try TokenPolicy.validated(
            maxLifetimeDays: try wholeNumber(body, "max_lifetime_days", code: "invalid_max_lifetime"),
            expiryRequired: expiryRequired, allowedScopes: scopes,
            defaultRateLimit: try wholeNumber(body, "default_rate_limit_per_minute", code: "invalid_rate_limit") ?? 0,
            maxRateLimit: try wholeNumber(body, "max_rate_limit_per_minute", code: "invalid_rate_limit") ?? 0)
        let stored = try context.database.transaction {
            try TokenPolicyStore.replace(with: policy, by: try AuditLog.Author(principal, request, context).person(),
                                         now: context.now, on: context.database)
            try AuditLog.record("token_policy.updated", by: principal, request: request, context: context)
            return try TokenPolicyStore.current(context.configuration, on: context.database)
        }
        return .json(stored.json())
    }

    /// Every client of the instance that breaks a rule of the policy in force, with its owner and
    /// the rules; nothing is revoked.
    @Sendable static func violations(_ request: Request, _ context: RequestContext) throws -> Response {
        try requireAdmin(request, context)
        let policy = try TokenPolicyStore.current(context.configuration, on: context.database)
        return .json(.array(try TokenPolicyStore.violations(of: policy, now: context.now, on: context.database)))
    }

    @discardableResult
    private static func requireAdmin(_ request: Request, _ context: RequestContext) throws -> Principal {
        let principal = try context.authenticate(request, .sessionOnly)
        guard case .session(let user, _) = principal, user.isAdmin else {
            throw DomainError.forbidden("only instance admins may see or set the token policy")
        }
        return principal
    }

    private static func wholeNumber(_ body: JSONRequestBody, _ name: String, code: String) throws(DomainError) -> Int? {
        do {
            return try body.integer(name)
        } catch {
            throw .invalid(code, "\(name) must be a whole number")
        }
    }
}
