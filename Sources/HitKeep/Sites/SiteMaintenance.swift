import PostgresClient

/// Renaming a site, moving it to another time zone, setting its retention period and deleting it,
/// as the API and the command line both do it: one transaction with its security-log entry, for the
/// actor and the site's owners and admins.
enum SiteMaintenance {
    /// Applies the changes given (nil: unchanged) to `site`; returns it as changed. `retentionDays`
    /// is `.some(nil)` to fall back to the instance's retention.
    static func update(_ site: Site, name: String?, timezone: String?, retentionDays: Int?? = nil,
                       by author: AuditLog.Author, on database: some PostgresQuerying) throws -> Site {
        var updated = site
        if let name { updated.name = try SiteName.validate(name) }
        if let timezone { updated.timezone = try TimeZoneName.validate(timezone) }
        if let retentionDays { updated.retentionDays = try retentionDays.map(RetentionPeriod.validate) }
        let changed = [("name", updated.name != site.name), ("timezone", updated.timezone != site.timezone),
                       ("retention_days", updated.retentionDays != site.retentionDays)]
            .filter(\.1).map(\.0)
        try database.transaction(begin: "BEGIN") {
            try database.query("""
                UPDATE sites SET name = \(updated.name), timezone = \(updated.timezone), retention_days = \(updated.retentionDays)
                WHERE id = \(site.id)
                """)
            try AuditLog.recordSiteChange("site.updated", site: site.id, by: author, target: site.id,
                                          detail: changed.joined(separator: ", "), on: database)
        }
        return updated
    }

    /// Deletes the site: at once for everyone (its members, invitations and client restrictions go,
    /// its own API clients are deleted, its queued page views dropped, its domain freed), and its
    /// page views and rollups in the background, a batch per transaction (`DeletedSiteRemoval`,
    /// migrations/0049): at millions of page views, removing them here took longer than a request may.
    /// Its clients' tokens are kept as revoked, so that the next request with one is told so.
    static func delete(_ site: Site, by author: AuditLog.Author, on database: some PostgresQuerying) throws {
        try database.transaction(begin: "BEGIN") {
            // Recorded first, while the site's admins are still there to be told.
            try AuditLog.recordSiteChange("site.deleted", site: site.id, by: author, target: site.id, detail: site.domain,
                                          on: database)
            _ = try APIClientStore.deleteAll(owner: .site(site.id), now: author.now, on: database)
            try database.query("SELECT begin_site_deletion(\(site.id))")
        }
    }
}
