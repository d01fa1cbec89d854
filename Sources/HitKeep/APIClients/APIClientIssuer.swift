import PostgresClient

/// Issuing, changing and revoking API clients, as the API and the command line both do it: each
/// change and its security-log entry in one transaction, and every new or changed client held to
/// the token policy in force at that moment (read in the same transaction).
enum APIClientIssuer {
    /// Stores the client and its token; returns them, the token to be shown this once.
    static func issue(_ new: APIClientStore.New, by author: AuditLog.Author, configuration: Configuration,
                      on database: some PostgresQuerying) throws -> (client: APIClient, token: String) {
        try database.transaction(begin: "BEGIN") {
            var new = new
            try TokenPolicyStore.current(configuration, on: database).admit(&new, now: author.now)
            let (client, token) = try APIClientStore.create(new, ownerID: author.userID, now: author.now, on: database)
            try AuditLog.record("api_client.created", by: author, target: client.id, detail: client.name, on: database)
            return (client, token)
        }
    }

    /// Changes the author's client `id` as far as the policy allows; nil when the author's user has no
    /// such client.
    static func update(_ id: String, with changes: APIClientStore.Changes, by author: AuditLog.Author,
                       configuration: Configuration, on database: some PostgresQuerying) throws -> APIClient? {
        try database.transaction(begin: "BEGIN") {
            var changes = changes
            try TokenPolicyStore.current(configuration, on: database).admit(&changes, now: author.now)
            guard let client = try APIClientStore.update(id, ownerID: author.userID, with: changes, now: author.now,
                                                         on: database) else { return nil }
            try AuditLog.record("api_client.updated", by: author, target: id, detail: client.name, on: database)
            return client
        }
    }

    /// Deletes the author's client `id`, its tokens revoked from the next request on; false when the
    /// author's user has no such client.
    static func revoke(_ id: String, by author: AuditLog.Author, on database: some PostgresQuerying) throws -> Bool {
        try database.transaction(begin: "BEGIN") {
            guard let client = try APIClientStore.find(id, ownerID: author.userID, on: database) else { return false }
            try APIClientStore.delete(id, now: author.now, on: database)
            try AuditLog.record("api_client.deleted", by: author, target: id, detail: client.name, on: database)
            return true
        }
    }

    /// Deletes every client of the author's user, each logged; part of the caller's transaction.
    /// Returns how many there were.
    @discardableResult
    static func revokeAll(by author: AuditLog.Author, on database: some PostgresQuerying) throws -> Int {
        let clients = try APIClientStore.deleteAll(ownerID: author.userID, now: author.now, on: database)
        for client in clients {
            try AuditLog.record("api_client.deleted", by: author, target: client.id, detail: client.name, on: database)
        }
        return clients.count
    }
}
