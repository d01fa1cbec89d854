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

    /// A connection for administrative commands (migrate, user, site …), quiet about notices.
    func connect() throws -> PostgresConnection {
        do {
            return try PostgresConnection(url: configuration.databaseURL, applicationName: "hitkeep-cli",
                                          settings: ["client_min_messages": "warning", "TimeZone": "UTC", "DateStyle": "ISO"])
        } catch let error as PostgresError {
            throw CommandFailure("cannot connect to the database: \(error.message)")
        }
    }
}
