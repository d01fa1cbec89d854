import PostgresClient

/// Issuing, changing and revoking API clients, as the API and the command line both do it: each
/// change and its security-log entry in one transaction, and every new or changed client held to
/// the token policy in force at that moment (read in the same transaction).
enum APIClientIssuer {
    /// Stores the owner's client and its token; returns them, the token to be shown this once.
    static func issue(_ new: APIClientStore.New, for owner: APIClientOwner, by author: AuditLog.Author,
                      configuration: Configuration, on database: some PostgresQuerying) throws -> (client: APIClient, token: String) {
        try database.transaction(begin: "BEGIN") {
            var new = new
            try TokenPolicyStore.current(configuration, on: database).admit(&new, now: author.now)
            let (client, token) = try APIClientStore.create(new, owner: owner, creatorID: author.userID, now: author.now,
                                                            on: database)
            try record("api_client.created", client, by: author, on: database)
            return (client, token)
        }
    }

    /// Changes the owner's client `id` as far as the policy allows; nil when the owner has no such
    /// client.
    static func update(_ id: String, of owner: APIClientOwner, with changes: APIClientStore.Changes,
                       by author: AuditLog.Author, configuration: Configuration,
                       on database: some PostgresQuerying) throws -> APIClient? {
        try database.transaction(begin: "BEGIN") {
            var changes = changes
            try TokenPolicyStore.current(configuration, on: database).admit(&changes, now: author.now)
            guard let client = try APIClientStore.update(id, owner: owner, with: changes, now: author.now,
                                                         on: database) else { return nil }
            try record("api_client.updated", client, by: author, on: database)
            return client
        }
    }

    /// Deletes the owner's client `id`, its tokens revoked from the next request on; false when the
    /// owner has no such client.
    static func revoke(_ id: String, of owner: APIClientOwner, by author: AuditLog.Author,
                       on database: some PostgresQuerying) throws -> Bool {
        try database.transaction(begin: "BEGIN") {
            guard let client = try APIClientStore.find(id, owner: owner, on: database) else { return false }
            try APIClientStore.delete(id, now: author.now, on: database)
            try record("api_client.deleted", client, by: author, on: database)
            return true
        }
    }

    /// Deletes every client of the author's user, each logged; part of the caller's transaction.
    /// Returns how many there were.
    @discardableResult
    static func revokeAll(by author: AuditLog.Author, on database: some PostgresQuerying) throws -> Int {
        guard let userID = author.userID else { return 0 }
        let clients = try APIClientStore.deleteAll(owner: .user(userID), now: author.now, on: database)
        for client in clients {
            try AuditLog.record("api_client.deleted", by: author, target: client.id, detail: client.name, on: database)
        }
        return clients.count
    }

    /// The security-log entry for a change to `client`: in its user's log, or for a site's client in
    /// the logs of the site's owners and admins and of the author.
    static func record(_ action: String, _ client: APIClient, by author: AuditLog.Author,
                       on database: some PostgresQuerying) throws {
        switch client.owner {
        case .user:
            try AuditLog.record(action, by: author, target: client.id, detail: client.name, on: database)
        case .site(let siteID):
            try AuditLog.recordSiteChange(action, site: siteID, by: author, target: client.id, detail: client.name, on: database)
        }
    }
}
