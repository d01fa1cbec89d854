import ArgumentParser
import HitKeep

struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Create, list and delete API clients (bearer tokens).",
        subcommands: [Create.self, List.self, Delete.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API client and print its token, once, on standard output.")

        @Option(help: "Email of the user the client acts for.") var owner: String
        @Option(help: "A descriptive name, e.g. grafana-reader.") var name: String
        @Option(name: .customLong("scope"), help: "A scope to grant (repeatable); all scopes when omitted.")
        var scopes: [String] = []
        @Option(name: .customLong("site"), help: "Limit the client to this site id (repeatable); all sites when omitted.")
        var sites: [String] = []
        @Option(help: "Expire the token after this many days (1 to 3650).") var expiresInDays: Int?
        @Option(help: "Requests a minute the token may make; the token policy's default when omitted.")
        var rateLimit: Int?
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let connection = try database.connect()
            let created = try reportingProblems {
                try Administration.createClient(ownerEmail: owner, name: name, scopes: scopes, siteIDs: sites,
                                                expiresInDays: expiresInDays, rateLimitPerMinute: rateLimit,
                                                configuration: database.configuration,
                                                on: connection)
            }
            print(created.token)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's API clients, newest first; never a token.")

        @Option(help: "Email of the user whose clients to list.") var owner: String
        @OptionGroup var output: ListingOptions
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let connection = try database.connect()
            output.print(try reportingProblems { try Administration.listClients(ownerEmail: owner, on: connection) })
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an API client; its token stops working at once.")

        @Option(help: "Email of the user the client belongs to.") var owner: String
        @Option(help: "The client's id.") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let connection = try database.connect()
            try reportingProblems { try Administration.deleteClient(id: id, ownerEmail: owner, on: connection) }
        }
    }
}
