import Foundation
import PostgresClient

/// The validated, owner-chosen parts of an API client, from the API or the CLI, with the error
/// codes of docs/API.md §6.2.
struct APIClientSettings {
    static let maximumNameLength = 120
    static let maximumDescriptionLength = 1000
    static let maximumClientsPerUser = 100

    static func name(_ text: String) throws(DomainError) -> String {
        guard let name = TextValidation.label(text, maximum: maximumNameLength) else {
            throw .invalid("invalid_name", "name must be 1 to \(maximumNameLength) characters after trimming, without control characters")
        }
        return name
    }

    /// Free text; line breaks and tabs are fine, other control characters are not.
    static func description(_ text: String) throws(DomainError) -> String {
        let trimmed = text.trimmingWhitespaceAndNewlines()
        let controls = trimmed.unicodeScalars.contains {
            ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value)
        }
        guard trimmed.count <= maximumDescriptionLength, !controls else {
            throw .invalid("invalid_description",
                              "description must be at most \(maximumDescriptionLength) characters, without control characters")
        }
        return trimmed
    }

    /// The scopes named, which the owner's client must be able to hold: a site's client cannot hold
    /// `user:read`.
    static func scopes(_ names: [String], for owner: APIClientOwner) throws(DomainError) -> [Scope] {
        let scopes = try scopes(names)
        if let refused = scopes.first(where: { !owner.allows($0) }) {
            throw .invalid("invalid_scope", "a site's API client cannot hold \(refused.rawValue): it acts for no person")
        }
        return scopes
    }

    static func scopes(_ names: [String]) throws(DomainError) -> [Scope] {
        guard !names.isEmpty else {
            throw .invalid("invalid_scope", "scopes must name at least one of: \(Scope.allCases.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        var scopes = Set<Scope>()
        for name in names {
            guard let scope = Scope(rawValue: name) else {
                let shown = String(String.UnicodeScalarView(name.unicodeScalars.filter { $0.value >= 0x20 }).prefix(40))
                throw .invalid("invalid_scope", "unknown scope \"\(shown)\"; known: \(Scope.allCases.map(\.rawValue).sorted().joined(separator: ", "))")
            }
            scopes.insert(scope)
        }
        return scopes.sorted()
    }

    /// A list of site ids, each once, sorted; an empty list or a malformed id is refused. Whether the
    /// owner can access them is the store's to check, in the transaction that stores them.
    static func siteIDs(_ ids: [String]) throws(DomainError) -> [String] {
        guard !ids.isEmpty else {
            throw .invalid("invalid_site_ids", "site_ids must be null (all sites) or a non-empty list of site ids")
        }
        guard ids.allSatisfy(ULID.isValid) else {
            throw .invalid("invalid_site_ids", "site_ids must hold site ids (ULIDs)")
        }
        return Array(Set(ids)).sorted()
    }

    /// `expires_at` (RFC 3339, in the future) or `expires_in_days` (1 to 3650); nil when neither is
    /// asked for. The token policy then bounds it, or gives one (`TokenPolicy.admit`).
    static func expiry(at text: String?, inDays days: Int?, now: Date) throws(DomainError) -> Date? {
        if text != nil && days != nil {
            throw .invalid("invalid_expiry", "give expires_at or expires_in_days, not both")
        }
        if let text {
            guard let date = Timestamp.parse(text) else {
                throw .invalid("invalid_expiry", "expires_at must be an RFC 3339 time such as 2027-01-31T00:00:00Z")
            }
            guard date > now else { throw .invalid("invalid_expiry", "expires_at must be in the future") }
            return date
        }
        if let days {
            guard (1...3650).contains(days) else {
                throw .invalid("invalid_expiry", "expires_in_days must be from 1 to 3650")
            }
            return now.addingTimeInterval(TimeInterval(days) * 86_400)
        }
        return nil
    }

    /// `rate_limit_per_minute` as sent: nil when absent (the policy's default applies); otherwise as
    /// `rateLimit(_:)` says. Whether the policy allows that many is `TokenPolicy.admit`'s to say.
    static func rateLimit(in body: JSONRequestBody) throws(DomainError) -> Int? {
        guard body.contains(rateLimitField) else { return nil }
        guard let limit = try? body.integer(rateLimitField) else { throw rateLimitRefusal }
        return try rateLimit(limit)
    }

    /// A whole number from 1 to the ceiling any policy may allow, or 400 `invalid_rate_limit`.
    static func rateLimit(_ limit: Int) throws(DomainError) -> Int {
        guard (1...TokenPolicy.ceilingRateLimit).contains(limit) else { throw rateLimitRefusal }
        return limit
    }

    private static let rateLimitRefusal = DomainError.invalid(
        "invalid_rate_limit", "\(rateLimitField) must be a whole number from 1 to \(TokenPolicy.ceilingRateLimit); omit it for the policy's default")

    static let rateLimitField = "rate_limit_per_minute"
}
