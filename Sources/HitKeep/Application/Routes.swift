extension Application {
    /// Every endpoint of the API, feature by feature.
    static func addRoutes(to router: inout Router<Endpoint>) {
        HealthController.addRoutes(to: &router)
        AccountsController.addRoutes(to: &router)
        UserController.addRoutes(to: &router)
        AuditLogController.addRoutes(to: &router)
        SitesController.addRoutes(to: &router)
        MembersController.addRoutes(to: &router)
        APIClientsController.addRoutes(to: &router)
        TokenPolicyController.addRoutes(to: &router)
        TokenController.addRoutes(to: &router)
        IngestController.addRoutes(to: &router)
        DroppedPageViewsController.addRoutes(to: &router)
        StatsController.addRoutes(to: &router)
        BreakdownController.addRoutes(to: &router)
        StatsDimensionsController.addRoutes(to: &router)
        MCPController.addRoutes(to: &router)
    }
}
