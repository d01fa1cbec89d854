/// Anything that runs a parameterised statement: a connection, or an application's wrapper of one.
/// Code that only needs to run SQL takes this, so the same store serves a request and the CLI.
public protocol PostgresQuerying {
    @discardableResult
    func query(_ query: PostgresQuery) throws -> PostgresRows
}

extension PostgresConnection: PostgresQuerying {}
