import ArgumentParser
import HitKeep

struct SiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Register, list, change and delete sites.",
        subcommands: [Create.self, List.self, Update.self, Delete.self]
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

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every site of the instance, oldest first.")
        @OptionGroup var output: ListingOptions
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            output.print(try Administration.listSites(on: try database.connect()))
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a site or move it to another time zone.")
        @Option(help: "The site's id.") var id: String
        @Option(help: "New display name.") var name: String?
        @Option(help: "New IANA time zone, e.g. Europe/Berlin.") var timezone: String?
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard name != nil || timezone != nil else { throw ValidationError("give --name, --timezone or both") }
        }

        func run() throws {
            let connection = try database.connect()
            try reportingProblems { try Administration.updateSite(id: id, name: name, timezone: timezone, on: connection) }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a site with its members, invitations and every page view recorded for it.")
        @Option(help: "The site's id.") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let connection = try database.connect()
            try reportingProblems { try Administration.deleteSite(id: id, on: connection) }
        }
    }
}
