import Scoreboard

/// The labels of the scoreboard's per-route counters, the same in every process of a pool: one for
/// requests that matched no route (404, 405, malformed), the application's routes in the order they
/// were added, and the status page.
public enum PoolRoutes {
    static let unmatched = 0

    /// What the supervisor lays the scoreboard out for: the application's routes, made without a
    /// database.
    public static func labels() -> [RouteLabel] {
        var router = Router<Endpoint>()
        Application.addRoutes(to: &router)
        return labels(of: router)
    }

    public static func labels(of application: Application) -> [RouteLabel] {
        labels(of: application.router)
    }

    static func labels(of router: Router<Endpoint>) -> [RouteLabel] {
        [RouteLabel(method: "", pattern: "unmatched")]
            + router.routes.map { RouteLabel(method: $0.method.rawValue, pattern: $0.pattern) }
            + [RouteLabel(method: "GET", pattern: PoolStatusPage.path)]
    }

    /// The counter of the route the application matched (a position in its router's routes).
    @inline(__always)
    static func counter(forRoute route: Int?) -> Int {
        route.map { $0 + 1 } ?? unmatched
    }

    static func statusPageCounter(in labels: [RouteLabel]) -> Int {
        labels.count - 1
    }
}
