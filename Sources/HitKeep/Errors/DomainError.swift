/// A refusal in the application's own terms: a value that is not acceptable, something that does not
/// exist (or that the person may not know exists), an action beyond their role, a clash with what is
/// stored. Validators and stores throw it without knowing who asked or how; `ProblemMapping` answers
/// an HTTP request with the matching problem document, and the command line prints it.
public struct DomainError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A value the request carries is not acceptable (400).
        case invalid
        /// No such thing, as far as this person may know (404).
        case notFound
        /// The thing exists and the person sees it, but their role does not allow this (403).
        case forbidden
        /// It clashes with what is stored: taken, a member already, too many (409).
        case conflict
        /// A well-formed question that what is stored can no longer answer (422): raw events past
        /// their retention.
        case unanswerable
    }

    public var kind: Kind
    /// A stable machine-readable code, e.g. `invalid_email`, `domain_taken`.
    public var code: String
    /// What a person reads: what was wrong and, where it helps, what would be right.
    public var detail: String
    /// Further members of the problem document, for a client to act on without parsing `detail`.
    public var members: [String: String] = [:]

    public init(_ kind: Kind, code: String, detail: String) {
        self.kind = kind
        self.code = code
        self.detail = detail
    }

    public static func invalid(_ code: String, _ detail: String) -> DomainError {
        DomainError(.invalid, code: code, detail: detail)
    }

    public static func notFound(_ detail: String = "no such resource") -> DomainError {
        DomainError(.notFound, code: "not_found", detail: detail)
    }

    public static func forbidden(_ detail: String, code: String = "forbidden") -> DomainError {
        DomainError(.forbidden, code: code, detail: detail)
    }

    public static func conflict(_ code: String, _ detail: String) -> DomainError {
        DomainError(.conflict, code: code, detail: detail)
    }
}
