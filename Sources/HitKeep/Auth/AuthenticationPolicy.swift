/// Which credentials an endpoint accepts.
public enum AuthenticationPolicy: Sendable {
    /// Only a signed-in person: API client management, password changes, the audit log.
    case sessionOnly
    /// A session, or an API client token holding this scope.
    case sessionOrToken(Scope)
    /// Only an API client token, holding this scope if one is given: the MCP endpoint, where a
    /// session cookie counts for nothing (docs/API.md §12).
    case tokenOnly(Scope?)
}
