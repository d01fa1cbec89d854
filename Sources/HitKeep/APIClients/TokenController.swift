/// `GET /api/token`: what a token holder may learn about the token it holds (docs/API.md §6.4).
enum TokenController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/token", introspect)
    }

    @Sendable static func introspect(_ request: Request, _ context: RequestContext) throws -> Response {
        guard let token = Authenticator.bearerToken(request) else {
            throw Authenticator.missingToken()
        }
        let (grant, _) = try APIClientAuthenticator.authenticate(token: token, requiring: nil,
                                                                 reading: PrincipalRead<Never>?.none, context: context)
        guard let client = try APIClientStore.find(grant.clientID, owner: grant.owner, on: context.database) else {
            throw Authenticator.invalidToken("revoked")
        }
        // The person a user's client acts for; a site's client acts for none (its owner says whose it is).
        let user = grant.owner.userID == nil ? nil : try Principal.apiClient(grant).user(on: context.database)
        // The token presented, which during a rotation's grace period is the old one: its own hint and end.
        guard let presented = try APIClientStore.token(hash: SecretDigest.sha256(token), on: context.database) else {
            throw Authenticator.invalidToken("revoked")
        }
        return .json(.object([
            ("client", client.json()),
            ("token", .object([("hint", .string(presented.hint)), ("expires_at", .time(presented.expiresAt)),
                               ("rotated_out", .bool(presented.rotatedOut))])),
            ("owner", client.owner.json),
            ("user", .optional(user) { .object([("id", .string($0.id)), ("email", .string($0.email))]) }),
        ]))
    }
}
