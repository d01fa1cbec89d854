import PostgresClient

/// The number that names a site in the rollups keyed by it (`sites.key`, migrations/0051–0052:
/// `keyed_session_hours`, `keyed_filtered_traffic`, `keyed_filtered_traffic_days`), where the
/// site's id of 26 characters took 27 bytes of every row and of every entry of its key.
enum SiteKeySQL {
    /// The key of the site `siteID`, as a subquery that PostgreSQL runs once per statement.
    static func of(_ siteID: String) -> PostgresQuery {
        "(SELECT key FROM sites WHERE id = \(siteID))"
    }
}
