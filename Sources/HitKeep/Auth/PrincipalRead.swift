import PostgresClient

/// A read whose rows depend on who asks, written once over a one-row relation `principal` with two
/// columns: `user_id`, the person the request acts for, and `restricting_client_id`, the API client
/// whose list of sites limits what the request may see (NULL when nothing does).
///
/// It runs in one of two forms. For a signed-in session the principal is known before the read, and
/// is bound as parameters. For a bearer token the read is joined to the token's lookup
/// (`APIClientAuthenticator`) in one statement: one round trip and one snapshot instead of a lookup
/// and then a read, and PostgreSQL runs the read only for a token that is valid and holds the scope.
///
/// The read's own parameters are `$1` to `$parameterCount`; the principal's are numbered after them.
struct PrincipalRead: Sendable {
    /// The read for a known person: the read's parameters, then the user id and the restricting
    /// client id.
    let forUser: String
    /// The read joined to a token's lookup: the read's parameters, then the lookup's. The first row
    /// carries the token's grant in `token_*` columns; it is a row of the read only if
    /// `token_read_row` is not NULL.
    let forToken: String

    /// - Parameters:
    ///   - body: a `SELECT` that refers to `principal.user_id` and `principal.restricting_client_id`.
    ///     Its column names must not start with `token_`.
    ///   - orderBy: the order of the rows, over the body's column names; applied to the whole
    ///     statement, as a subquery's order is not kept by the query around it.
    init(_ body: String, parameterCount: Int = 0, orderBy: String? = nil) {
        let userID = parameterCount + 1
        let order = orderBy.map { "\nORDER BY \($0)" } ?? ""
        forUser = """
            SELECT read.* FROM (SELECT $\(userID)::text AS user_id, $\(userID + 1)::text AS restricting_client_id) principal
            CROSS JOIN LATERAL (\(body)) read
            """ + order
        forToken = """
            SELECT \(APIClientAuthenticator.grantColumns), read.*
            FROM (\(APIClientAuthenticator.principal(parametersFrom: parameterCount + 1))) principal
            LEFT JOIN LATERAL (SELECT true AS token_read_row, body.* FROM (\(body)) body) read
                ON principal.refusal IS NULL AND principal.holds_scope IS NOT FALSE
            """ + order
    }

    /// The rows as `principal`, already known, sees them.
    func rows(for principal: Principal, _ parameters: [(any PostgresEncodable)?] = [],
              on database: some PostgresQuerying) throws -> PostgresRows {
        try rows(forUser: principal.userID, restrictedBy: principal.siteRestrictingClientID, parameters, on: database)
    }

    /// The rows as the user sees them, limited by the sites of `clientID` if given.
    func rows(forUser userID: String, restrictedBy clientID: String? = nil, _ parameters: [(any PostgresEncodable)?] = [],
              on database: some PostgresQuerying) throws -> PostgresRows {
        try database.query(forUser, parameters + [userID, clientID])
    }
}
