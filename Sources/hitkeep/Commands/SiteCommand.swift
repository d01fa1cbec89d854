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
        static let configuration = CommandConfiguration(
            abstract: "Rename a site, move it to another time zone or set how long its raw events are kept.")
        @Option(help: "The site's id.") var id: String
        @Option(help: "New display name.") var name: String?
        @Option(help: "New IANA time zone, e.g. Europe/Berlin.") var timezone: String?
        @Option(help: "Days its raw events are kept (1 to 3650), or `instance` for the instance's HITKEEP_RETENTION_DAYS.")
        var retentionDays: String?
        @OptionGroup var database: DatabaseOptions

        /// nil: unchanged; `.some(nil)`: the instance's retention.
        var retention: Int?? {
            get throws {
                guard let retentionDays else { return nil }
                if retentionDays == "instance" { return .some(nil) }
                guard let days = Int(retentionDays) else {
                    throw ValidationError("--retention-days takes a number of days or `instance`")
                }
                return .some(days)
            }
        }

        func validate() throws {
            guard name != nil || timezone != nil || retentionDays != nil else {
                throw ValidationError("give --name, --timezone, --retention-days or several")
            }
            _ = try retention
        }

        func run() throws {
            let connection = try database.connect()
            try reportingProblems { try Administration.updateSite(id: id, name: name, timezone: timezone, retentionDays: try retention, on: connection) }
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
