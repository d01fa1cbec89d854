/// `GET /api/token`: what a token holder may learn about the token it holds (docs/API.md §6.4).
enum TokenController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/token", introspect)
    }

    @Sendable static func introspect(_ request: Request, _ context: RequestContext) throws -> Response {
        guard let token = Authenticator.bearerToken(request) else {
            throw Authenticator.missingToken()
        }
        let (_, rows) = try APIClientAuthenticator.authenticate(
            token: token, requiring: nil, reading: APIClientStore.introspection(ofToken: SecretDigest.sha256(token)),
            context: context)
        guard let introspection = rows.first else {
            // The read shares the lookup's statement and snapshot, so a token found has its row.
            throw Authenticator.invalidToken("revoked")
        }
        let client = introspection.client, presented = introspection.presented
        // The person a user's client acts for; a site's client acts for none (its owner says whose it is).
        let user: (id: String, email: String)? = switch client.owner {
        case .user(let id): introspection.ownerEmail.map { (id, $0) }
        case .site: nil
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
