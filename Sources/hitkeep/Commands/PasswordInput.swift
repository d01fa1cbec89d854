import ArgumentParser

/// `--password-stdin`: a password comes on the first line of standard input, never on the command
/// line, where other users could read it in the process list and it would stay in shell history.
struct PasswordInput: ParsableArguments {
    @Flag(help: "Read the password from the first line of standard input (required: passwords never go on the command line).")
    var passwordStdin = false

    func validate() throws {
        guard passwordStdin else { throw ValidationError("give --password-stdin and the password on standard input") }
    }

    func read() throws -> String {
        guard let line = readLine(strippingNewline: true) else { throw CommandFailure("no password on standard input") }
        return line
    }
}
