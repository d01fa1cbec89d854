import PostgresClient

/// `GET /api/health` for load balancers and monitors, `GET /api/status` for the dashboard's first run.
enum HealthController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        // Load balancers and uptime monitors add parameters of their own (cache busters); any go.
        router.add(.get, "/api/health", query: nil, health)
        router.add(.get, "/api/status", query: nil, status)
    }

    @Sendable static func health(_ request: Request, _ context: RequestContext) throws -> Response {
        // A second try meets a fresh connection when the first found a stale one.
        var database = "unavailable"
        for _ in 1...2 where database == "unavailable" {
            do {
                try context.database.query("SELECT 1")
                database = "ok"
            } catch let error as PostgresError where error.isUnavailable {
                continue
            } catch is SchemaBehind {
                // Reachable, but this server cannot work with it: out of the load balancer's rotation.
                database = "not_migrated"
            }
        }
        guard database == "ok" else {
            var response = Response.json(.object([
                ("status", .string("unavailable")),
                ("database", .string(database)),
                ("version", .string(Configuration.version)),
            ]), status: .serviceUnavailable)
            response.headers[.retryAfter] = database == "not_migrated" ? "30" : "1"
            return response
        }
        return .json(.object([
            ("status", .string("ok")),
            ("database", .string("ok")),
            ("version", .string(Configuration.version)),
        ]))
    }

    @Sendable static func status(_ request: Request, _ context: RequestContext) throws -> Response {
        let rows = try context.database.query("SELECT NOT EXISTS (SELECT 1 FROM users) AS needs_setup")
        let needsSetup = try rows[0].decode(Bool.self, "needs_setup")
        return .json(.object([
            ("needs_setup", .bool(needsSetup)),
            ("version", .string(Configuration.version)),
        ]))
    }
}
