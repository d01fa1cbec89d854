import HTTPTypes
import PostgresClient

/// The one place where a failure becomes the problem document a client reads: the application's own
/// refusals (`DomainError`), HTTP-level ones (`HTTPProblem`, as they are), and what PostgreSQL says,
/// by SQLSTATE. Anything else is a fault of the server's and is answered 500 by the caller.
enum ProblemMapping {
    static func problem(for error: any Error) -> HTTPProblem? {
        switch error {
        case let problem as HTTPProblem:
            return problem
        case let refusal as DomainError:
            return HTTPProblem(refusal)
        case let error as PostgresError:
            return problem(for: error)
        case is SchemaBehind:
            return .databaseNotMigrated()
        default:
            return nil
        }
    }

    static func problem(for error: PostgresError) -> HTTPProblem? {
        if error.isUnavailable { return .databaseUnavailable() }
        switch error.sqlState {
        case let state? where state.hasPrefix("22"):
            // A data exception (bad encoding, value out of range) is the client's input at fault.
            return .badRequest("invalid_input", "a value in the request is not acceptable")
        case "57014":
            // statement_timeout: the question was too large to answer in time, not a broken server.
            var problem = HTTPProblem(.serviceUnavailable, code: "query_timeout",
                                      detail: "this took longer than the server allows; ask for less (a shorter range, fewer filters) or retry later")
            problem.headers[.retryAfter] = "5"
            return problem
        case "40001", "40P01", "55P03":
            // Serialization failure, deadlock, lock not available: nothing was written; a retry succeeds.
            var problem = HTTPProblem.databaseUnavailable()
            problem.detail = "the database was busy with a conflicting change; retry shortly"
            return problem
        default:
            return nil
        }
    }
}

extension HTTPProblem {
    /// The answer to a refusal of the application's.
    init(_ refusal: DomainError) {
        let status: HTTPResponse.Status = switch refusal.kind {
        case .invalid: .badRequest
        case .notFound: .notFound
        case .forbidden: .forbidden
        case .conflict: .conflict
        case .unanswerable: .unprocessableContent
        }
        self.init(status, code: refusal.code, detail: refusal.detail)
        members = refusal.members.sorted { $0.key < $1.key }
    }
}
