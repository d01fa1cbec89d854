/// Anything that runs parameterised statements and transactions: a connection, or an application's
/// wrapper of one. Code that only needs to run SQL takes this, so the same store serves a request
/// and the command line.
public protocol PostgresQuerying {
    @discardableResult
    func query(_ query: PostgresQuery) throws -> PostgresRows

    /// Runs `body` in a transaction opened with `begin`: committed when it returns, rolled back when it throws.
    func transaction<T>(begin: String, _ body: () throws -> T) throws -> T
}

extension PostgresConnection: PostgresQuerying {}
