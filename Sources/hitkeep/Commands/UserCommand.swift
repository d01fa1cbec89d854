import ArgumentParser
import Foundation
import HitKeep

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Create, list and delete users; set a password.",
        subcommands: [Create.self, List.self, Delete.self, SetPassword.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; the password is read from standard input.")

        @Option(help: "The email address the user signs in with.") var email: String
        @Option(help: "Display name.") var name: String = ""
        @Flag(help: "Make the user an instance admin.") var admin = false
        @OptionGroup var password: PasswordInput
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let line = try password.read()
            let connection = try database.connect()
            let user = try reportingProblems {
                try Administration.createUser(email: email, name: name, password: line, isAdmin: admin, on: connection)
            }
            print(user.id)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var output: ListingOptions
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            output.print(try Administration.listUsers(on: try database.connect()))
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a user with the sites they own (and those sites' data), their sessions and API clients.")
        @Option(help: "The user's email address.") var email: String
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let connection = try database.connect()
            try reportingProblems { try Administration.deleteUser(email: email, on: connection) }
        }
    }

    struct SetPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set a user's password, read from standard input; every session of theirs ends.")
        @Option(help: "The user's email address.") var email: String
        @Flag(help: "Also revoke every API client of the user (after a suspected break-in).") var revokeApiClients = false
        @OptionGroup var password: PasswordInput
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let line = try password.read()
            let connection = try database.connect()
            try reportingProblems {
                try Administration.setPassword(email: email, password: line, revokingAPIClients: revokeApiClients, on: connection)
            }
        }
    }
}
