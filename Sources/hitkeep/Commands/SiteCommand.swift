import ArgumentParser
import HitKeep

struct SiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Register sites.",
        subcommands: [Create.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a site for a user; prints its id.")

        @Option(help: "Email of the user who will own the site.") var owner: String
        @Option(help: "Bare domain, e.g. example.com.") var domain: String
        @Option(help: "Display name; the domain by default.") var name: String?
        @Option(help: "IANA time zone for day boundaries, e.g. Europe/Berlin.") var timezone: String = "UTC"
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let connection = try database.connect()
            let id = try reportingProblems {
                try Administration.createSite(ownerEmail: owner, domain: domain, name: name, timezone: timezone, on: connection)
            }
            print(id)
        }
    }
}
