extension Application {
    /// Every endpoint of the API, feature by feature.
    static func addRoutes(to router: inout Router<RouteHandler>) {
        HealthController.addRoutes(to: &router)
    }
}
