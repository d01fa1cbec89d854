import HitKeep

/// An error a command reports on one line with a non-zero exit status (no usage text).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// The API's refusal, told to a person at a terminal.
    init(_ problem: HTTPProblem) {
        self.description = "\(problem.detail) (\(problem.code))"
    }
}

/// Runs `body`, turning the application's validation problems into command failures.
func reportingProblems<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let problem as HTTPProblem {
        throw CommandFailure(problem)
    }
}
