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
            abstract: "Create an API client and print its token, once, on standard output.",
            discussion: """
                With --owner the client belongs to that user and acts for them (--site limits it to sites). \
                Without --owner, one --site names the site that owns the client: it reaches that site \
                only and keeps working whoever leaves it.
                """)

        @Option(help: "Email of the user the client acts for; omit for a client the --site owns.") var owner: String?
        @Option(help: "A descriptive name, e.g. grafana-reader.") var name: String
        @Option(name: .customLong("scope"), help: "A scope to grant (repeatable); all scopes when omitted (a site's client: all but user:read).")
        var scopes: [String] = []
        @Option(name: .customLong("site"),
                help: "With --owner: limit the client to this site id (repeatable; all sites when omitted). Without: the site that owns it.")
        var sites: [String] = []
        @Option(help: "Expire the token after this many days (1 to 3650).") var expiresInDays: Int?
        @Option(help: "Requests a minute the token may make; the token policy's default when omitted.")
        var rateLimit: Int?
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            if owner == nil && sites.count != 1 {
                throw ValidationError("give --owner EMAIL for a user's client, or exactly one --site ID for a site's client")
            }
        }

        func run() throws {
            let connection = try database.connect()
            let created = try reportingProblems {
                if let owner {
                    try Administration.createClient(ownerEmail: owner, name: name, scopes: scopes, siteIDs: sites,
                                                    expiresInDays: expiresInDays, rateLimitPerMinute: rateLimit,
                                                    configuration: database.configuration, on: connection)
                } else {
                    try Administration.createSiteClient(siteID: sites[0], name: name, scopes: scopes, expiresInDays: expiresInDays,
                                                        rateLimitPerMinute: rateLimit, configuration: database.configuration,
                                                        on: connection)
                }
            }
            print(created.token)
        }
    }

    /// Whose clients a command is about: a user's (`--owner`) or a site's (`--site`), exactly one.
    struct OwnerOptions: ParsableArguments {
        @Option(help: "Email of the user whose clients these are.") var owner: String?
        @Option(help: "The id of the site whose own clients these are.") var site: String?

        func validate() throws {
            if (owner == nil) == (site == nil) {
                throw ValidationError("give either --owner EMAIL or --site ID")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's or a site's API clients, newest first; never a token.")

        @OptionGroup var whose: OwnerOptions
        @OptionGroup var output: ListingOptions
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let connection = try database.connect()
            output.print(try reportingProblems {
                if let site = whose.site {
                    try Administration.listSiteClients(siteID: site, on: connection)
                } else {
                    try Administration.listClients(ownerEmail: whose.owner ?? "", on: connection)
                }
            })
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an API client; its token stops working at once.")

        @OptionGroup var whose: OwnerOptions
        @Option(help: "The client's id.") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let connection = try database.connect()
            try reportingProblems {
                if let site = whose.site {
                    try Administration.deleteSiteClient(id: id, siteID: site, on: connection)
                } else {
                    try Administration.deleteClient(id: id, ownerEmail: whose.owner ?? "", on: connection)
                }
            }
        }
    }
}
