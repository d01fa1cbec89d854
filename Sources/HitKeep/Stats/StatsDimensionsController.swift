import HTTPTypes

/// `GET /api/stats/dimensions`: the registry of stats dimensions (`StatsDimension.all`) for clients,
/// the dashboard among them, which builds its filter labels and top-list tabs from it.
enum StatsDimensionsController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/stats/dimensions", list)
    }

    @Sendable static func list(_ request: Request, _ context: RequestContext) throws -> Response {
        // Anyone who may read some stats: a signed-in person, or a token with stats:read.
        _ = try context.authenticate(request, .sessionOrToken(.statsRead))
        var headers = ResponseHeaders()
        headers.append(contentsOf: [contentType, cacheControl])
        return Response(status: .ok, headers: headers, body: body)
    }

    /// It changes only with the server's version: browsers may keep it for an hour.
    private static let cacheControl = HTTPField(name: .cacheControl, value: "private, max-age=3600")
    private static let contentType = HTTPField(name: .contentType, value: "application/json; charset=utf-8")

    /// Written once per process.
    static let body: [UInt8] = document.encoded()

    static var document: JSON {
        .object([
            ("dimensions", .array(StatsDimension.all.map(json))),
            ("none", .string(StatsFilter.noneName)),
        ])
    }

    static func json(_ dimension: StatsDimension) -> JSON {
        .object([
            ("name", .string(dimension.name)),
            ("label", .string(dimension.label)),
            ("values", .string(dimension.values.rawValue)),
            ("filter", .bool(dimension.isFilter)),
            ("value_filter", .optional(dimension.valueFilter) { .string($0.name) }),
            ("list", .optional(dimension.list) { .string($0.key) }),
            ("list_label", .optional(dimension.list) { .string($0.label) }),
            ("group", .optional(dimension.list) { .string($0.group) }),
        ])
    }
}
