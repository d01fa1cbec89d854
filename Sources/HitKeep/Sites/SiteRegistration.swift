import PostgresClient

/// Registering a site, as the API and the command line both do it: the fields checked, the site and
/// its owner's membership stored and the change logged in one transaction; a taken domain is 409
/// `domain_taken`.
enum SiteRegistration {
    static func register(domain: String, name: String?, timezone: String?, by author: AuditLog.Author,
                         on database: some PostgresQuerying) throws -> Site {
        let domain = try DomainName.normalize(domain)
        let name = try SiteName.validate(name ?? SiteName.defaultName(forDomain: domain))
        let timezone = try TimeZoneName.validate(timezone ?? "UTC")
        return try database.transaction(begin: "BEGIN") {
            let site = try SiteStore.create(domain: domain, name: name, timezone: timezone, ownerID: try author.person(),
                                            now: author.now, on: database)
            try AuditLog.recordSiteChange("site.created", site: site.id, by: author, target: site.id, detail: site.domain,
                                          on: database)
            return site
        }
    }
}
