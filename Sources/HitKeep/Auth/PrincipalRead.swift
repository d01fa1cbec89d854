import PostgresClient

/// A read whose rows depend on who asks, written once over a one-row relation `principal` with three
/// columns: `user_id`, the person the request acts for (NULL for a site's API client, which acts for
/// no person); `restricting_client_id`, the API client whose list of sites limits what the request
/// may see (NULL when nothing does); and `site_id`, the site that owns the API client (NULL but for
/// a site's client).
///
/// It runs in one of two forms. For a signed-in session (or the command line) the person is known
/// before the read, and is bound as parameters. For a bearer token the read is joined to the token's
/// lookup (`APIClientAuthenticator`) in one statement: one round trip and one snapshot instead of a
/// lookup and then a read, and PostgreSQL runs the read only for a token that is valid and holds the
/// scope. Either way the caller gets typed rows.
///
/// A read may also come in a second form, for a member: a person acting with nothing restricting
/// what they see (a session, or their own unrestricted client's token). Handling the other
/// principals costs the general form plan nodes (a site's client's made-up membership, a client's
/// list of sites) that PostgreSQL sets up at every execution even where they are switched off (the
/// site list joined to a token's lookup: 11 % more statements a second without them, README). A
/// token's form is chosen before its grant is known, from what its last request showed
/// (`MemberTokens`), and the member form runs only for a grant that is a member's: for any other it
/// returns no rows, and the request is read again in the general form. So the choice costs a second
/// statement at worst, never a row the principal may not see.
struct PrincipalRead<Row>: Sendable {
    /// A `SELECT` that refers to `principal.user_id`, `principal.restricting_client_id` and
    /// `principal.site_id`, with the read's own parameters. Its column names must not start with `token_`.
    let body: PostgresQuery
    /// The same read for a member: it refers to `principal.user_id` alone, and gives the rows
    /// `body` gives when the other two are NULL. Nil when the read has one form only.
    let memberBody: PostgresQuery?
    /// The order of the rows, over the body's column names; applied to the whole statement, as a
    /// subquery's order is not kept by the query around it.
    let orderBy: String?
    let decode: @Sendable (PostgresRow) throws -> Row

    init(_ body: PostgresQuery, member memberBody: PostgresQuery? = nil, orderBy: String? = nil,
         decode: @escaping @Sendable (PostgresRow) throws -> Row) {
        self.body = body
        self.memberBody = memberBody
        self.orderBy = orderBy
        self.decode = decode
    }

    /// The read for a known person, limited by the sites of `clientID` if given; or, with no person,
    /// for the client `clientID` that the site `siteID` owns.
    func query(forUser userID: String?, restrictedBy clientID: String?, ownedBy siteID: String? = nil) -> PostgresQuery {
        if let memberBody, userID != nil, clientID == nil, siteID == nil {
            return ordered("SELECT read.* FROM (SELECT \(userID)::text AS user_id) principal CROSS JOIN LATERAL (\(memberBody)) read")
        }
        return ordered("""
            SELECT read.* FROM (SELECT \(userID)::text AS user_id, \(clientID)::text AS restricting_client_id,
                                       \(siteID)::text AS site_id) principal
            CROSS JOIN LATERAL (\(body)) read
            """)
    }

    /// The read joined to a token's lookup, a one-row relation with the grant's columns
    /// (`APIClientAuthenticator.lookup`). The first row carries the grant in `token_*` columns; it is
    /// a row of the read only if `token_read_row` is not NULL. `asMember` reads in the member form,
    /// if the read has one, which gives no rows unless the grant is a member's.
    func query(joinedTo lookup: PostgresQuery, asMember: Bool = false) -> PostgresQuery {
        let member = asMember ? memberBody : nil
        let memberOnly = member == nil ? "" : " AND principal.restricting_client_id IS NULL AND principal.site_id IS NULL"
        return ordered("""
            SELECT \(APIClientAuthenticator.grantColumns), read.*
            FROM (\(lookup)) principal
            LEFT JOIN LATERAL (SELECT true AS token_read_row, body.* FROM (\(member ?? body)) body) read
                ON principal.refusal IS NULL AND principal.holds_scope IS NOT FALSE\(unescaped: memberOnly)
            """)
    }

    private func ordered(_ query: PostgresQuery) -> PostgresQuery {
        guard let orderBy else { return query }
        return "\(query)\nORDER BY \(unescaped: orderBy)"
    }

    /// The rows as `principal`, already known, sees them.
    func rows(for principal: Principal, on database: some PostgresQuerying) throws -> [Row] {
        try database.query(query(forUser: principal.userID, restrictedBy: principal.siteRestrictingClientID,
                                 ownedBy: principal.owningSiteID)).map(decode)
    }

    /// The rows as the user sees them, limited by the sites of `clientID` if given.
    func rows(forUser userID: String?, restrictedBy clientID: String? = nil, on database: some PostgresQuerying) throws -> [Row] {
        try database.query(query(forUser: userID, restrictedBy: clientID)).map(decode)
    }

    /// The rows of a statement made by `query(joinedTo:)`: all but the grant-only row.
    func rows(ofJoined rows: PostgresRows) throws -> [Row] {
        guard let first = rows.first, first["token_read_row"] != nil else { return [] }
        return try rows.map(decode)
    }
}
