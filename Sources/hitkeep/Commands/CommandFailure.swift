import HitKeep

/// An error a command reports on one line with a non-zero exit status (no usage text).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// The application's refusal, told to a person at a terminal.
    init(_ refusal: DomainError) {
        self.description = "\(refusal.detail) (\(refusal.code))"
    }
}

/// Runs `body`, turning the application's refusals into command failures.
func reportingProblems<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let refusal as DomainError {
        throw CommandFailure(refusal)
    }
}
