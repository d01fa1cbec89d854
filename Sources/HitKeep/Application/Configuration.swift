import Foundation

/// Settings shared by the CLI and the workers; each comes from an option or a `HITKEEP_…` variable.
public struct Configuration: Sendable {
    public static let version = "0.1.0"

    /// libpq URI or conninfo string.
    public var databaseURL: String
    /// The public URL people reach the server at (`HITKEEP_PUBLIC_URL`): its origin is the one
    /// cookie-authenticated writes must come from, and https makes cookies `Secure`.
    public var publicURL: String?
    /// Longest a statement may run before PostgreSQL cancels it.
    public var statementTimeoutMilliseconds: Int
    /// Request bodies beyond this are refused with 413.
    public var bodyLimit: Int

    public init(databaseURL: String, publicURL: String? = nil, statementTimeoutMilliseconds: Int = 10_000,
                bodyLimit: Int = 64 * 1024) {
        self.databaseURL = databaseURL
        self.publicURL = publicURL
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.bodyLimit = bodyLimit
    }

    /// Reads the `HITKEEP_…` variables of the process environment that have no option given.
    public static func fromEnvironment(databaseURL: String?) -> Configuration {
        let environment = ProcessInfo.processInfo.environment
        return Configuration(
            databaseURL: databaseURL ?? environment["HITKEEP_DATABASE_URL"] ?? "postgresql:///hitkeep",
            publicURL: environment["HITKEEP_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 },
            statementTimeoutMilliseconds: environment["HITKEEP_STATEMENT_TIMEOUT_MS"].flatMap(Int.init) ?? 10_000
        )
    }
}
