import Foundation

/// `GET /api/sites/{site_id}/dropped` (docs/API.md §8.3): how many page views of the site were
/// answered 202 and not stored, per day and reason, so that a developer whose test page recorded
/// nothing sees why, and an owner sees how much bot traffic was kept out.
enum DroppedPageViewsController {
    /// Days shown, today included.
    static let days = 30

    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/sites/{site_id}/dropped", show)
    }

    @Sendable static func show(_ request: Request, _ context: RequestContext) throws -> Response {
        let site = try SiteStore.site(context.parameter("site_id"), for: request, .sessionOrToken(.statsRead), context: context)
        // Today is the site's calendar day, as the counts' days are.
        let rows = try context.database.query("""
            SELECT t.today::text AS today, d.day::text AS day, d.reason, d.page_views
            FROM (SELECT (now() AT TIME ZONE \(site.timezone))::date AS today) t
            LEFT JOIN dropped_page_views d ON d.site_id = \(site.id) AND d.day > t.today - \(days)::integer
            ORDER BY d.day DESC
            """)
        var counts: [(day: String, byReason: [DropReason: Int])] = []
        for row in rows {
            guard let day = try row.decodeIfPresent(String.self, "day"),
                  let reason = DropReason(rawValue: try row.decode(String.self, "reason")) else { continue }
            if counts.last?.day != day { counts.append((day, [:])) }
            counts[counts.count - 1].byReason[reason] = try row.decode(Int.self, "page_views")
        }
        let today = try rows[0].decode(String.self, "today")
        return .json(.object([
            ("site_id", .string(site.id)),
            ("today", .string(today)),
            ("days", .array(counts.map { day in
                .object([("date", .string(day.day)), ("total", .int(day.byReason.values.reduce(0, +)))]
                        + DropReason.allCases.map { (key($0), .int(day.byReason[$0] ?? 0)) })
            })),
        ]))
    }

    /// A reason as a JSON member name: `unknown_origin`, `bot`, `prefetch`.
    private static func key(_ reason: DropReason) -> String {
        reason.rawValue.replacingOccurrences(of: "-", with: "_")
    }
}
