import PostgresClient

/// Issuing an API client, as the API and the command line both do it: the client and its token
/// stored and the change logged in one transaction. Returns the client with its token, which is
/// shown this once.
enum APIClientIssuer {
    static func issue(_ new: APIClientStore.New, by author: AuditLog.Author,
                      on database: some PostgresQuerying) throws -> (client: APIClient, token: String) {
        try database.transaction(begin: "BEGIN") {
            let (client, token) = try APIClientStore.create(new, ownerID: author.userID, now: author.now, on: database)
            try AuditLog.record("api_client.created", by: author, target: client.id, on: database)
            return (client, token)
        }
    }
}
