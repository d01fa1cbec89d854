import ArgumentParser
import HitKeep
import PostgresClient

/// `--database-url`, shared by every command that talks to PostgreSQL.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"),
            help: "libpq URI or conninfo of the database (env: HITKEEP_DATABASE_URL).")
    var databaseURL: String?

    var configuration: Configuration {
        Configuration.fromEnvironment(databaseURL: databaseURL)
    }

    /// A connection for administrative commands (migrate, user, site …), quiet about notices. Through
    /// a transaction-pooling PgBouncer as the workers connect (`DatabasePoolMode.transaction`).
    func connect() throws -> PostgresConnection {
        do {
            return try configuration.databasePoolMode.connect(url: configuration.databaseURL, applicationName: "hitkeep-cli",
                                                              settings: ["client_min_messages": "warning"])
        } catch let error as PostgresError {
            throw CommandFailure("cannot connect to the database: \(error.message)")
        }
    }

    /// A connection of its own to PostgreSQL, for what holds a lock across transactions
    /// (`hitkeep migrate`): a transaction-pooling PgBouncer would run the unlock elsewhere.
    func connectDirectly(for command: String) throws -> PostgresConnection {
        guard configuration.databasePoolMode == .session else {
            throw CommandFailure("\(command) needs a connection of its own to PostgreSQL, not a transaction-pooling "
                                 + "PgBouncer: give --database-url of the database itself and HITKEEP_DATABASE_POOL_MODE=session")
        }
        return try connect()
    }
}
