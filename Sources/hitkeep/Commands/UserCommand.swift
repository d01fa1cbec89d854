import ArgumentParser
import Foundation
import HitKeep

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Create and list users.",
        subcommands: [Create.self, List.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; the password is read from standard input.")

        @Option(help: "The email address the user signs in with.") var email: String
        @Option(help: "Display name.") var name: String = ""
        @Flag(help: "Make the user an instance admin.") var admin = false
        @Flag(help: "Read the password from the first line of standard input (required: passwords never go on the command line).")
        var passwordStdin = false
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard passwordStdin else { throw ValidationError("give --password-stdin and the password on standard input") }
        }

        func run() throws {
            guard let line = readLine(strippingNewline: true) else { throw CommandFailure("no password on standard input") }
            let connection = try database.connect()
            let user = try reportingProblems {
                try Administration.createUser(email: email, name: name, password: line, isAdmin: admin, on: connection)
            }
            print(user.id)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let connection = try database.connect()
            for user in try Administration.listUsers(on: connection) {
                print([user.id, user.email, user.isAdmin ? "admin" : "-", Timestamp.format(user.createdAt), user.name]
                    .joined(separator: "\t"))
            }
        }
    }
}
