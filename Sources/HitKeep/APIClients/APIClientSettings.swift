import Foundation
import PostgresClient

/// The validated, owner-chosen parts of an API client, from the API or the CLI, with the error
/// codes of API.md §3.3.
struct APIClientSettings {
    static let maximumNameLength = 120
    static let maximumDescriptionLength = 1000
    static let maximumClientsPerUser = 100

    static func name(_ text: String) throws(HTTPProblem) -> String {
        guard let name = TextValidation.label(text, maximum: maximumNameLength) else {
            throw .badRequest("invalid_name", "name must be 1 to \(maximumNameLength) characters after trimming, without control characters")
        }
        return name
    }

    /// Free text; line breaks and tabs are fine, other control characters are not.
    static func description(_ text: String) throws(HTTPProblem) -> String {
        let trimmed = text.trimmingWhitespaceAndNewlines()
        let controls = trimmed.unicodeScalars.contains {
            ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value)
        }
        guard trimmed.count <= maximumDescriptionLength, !controls else {
            throw .badRequest("invalid_description",
                              "description must be at most \(maximumDescriptionLength) characters, without control characters")
        }
        return trimmed
    }

    static func scopes(_ names: [String]) throws(HTTPProblem) -> [Scope] {
        guard !names.isEmpty else {
            throw .badRequest("invalid_scope", "scopes must name at least one of: \(Scope.allCases.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        var scopes = Set<Scope>()
        for name in names {
            guard let scope = Scope(rawValue: name) else {
                let shown = String(String.UnicodeScalarView(name.unicodeScalars.filter { $0.value >= 0x20 }).prefix(40))
                throw .badRequest("invalid_scope", "unknown scope \"\(shown)\"; known: \(Scope.allCases.map(\.rawValue).sorted().joined(separator: ", "))")
            }
            scopes.insert(scope)
        }
        return scopes.sorted()
    }

    /// Site ids the owner can access; an empty list, a malformed id or another's site is refused.
    static func siteIDs(_ ids: [String], ownerID: String, on database: some PostgresQuerying) throws -> [String] {
        guard !ids.isEmpty else {
            throw HTTPProblem.badRequest("invalid_site_ids", "site_ids must be null (all sites) or a non-empty list of site ids")
        }
        guard ids.allSatisfy(ULID.isValid) else {
            throw HTTPProblem.badRequest("invalid_site_ids", "site_ids must hold site ids (ULIDs)")
        }
        let unique = Array(Set(ids)).sorted()
        let accessible = try database.query(
            "SELECT site_id FROM site_members WHERE user_id = \(ownerID) AND site_id = ANY(\(unique)::text[])")
        guard accessible.count == unique.count else {
            throw HTTPProblem.forbidden("site_ids names a site you cannot access")
        }
        return unique
    }

    /// `expires_at` (RFC 3339, in the future) or `expires_in_days` (1 to 3650); nil for never.
    static func expiry(at text: String?, inDays days: Int?, now: Date, configuration: Configuration) throws(HTTPProblem) -> Date? {
        var expiry: Date?
        if text != nil && days != nil {
            throw .badRequest("invalid_expiry", "give expires_at or expires_in_days, not both")
        }
        if let text {
            guard let date = Timestamp.parse(text) else {
                throw .badRequest("invalid_expiry", "expires_at must be an RFC 3339 time such as 2027-01-31T00:00:00Z")
            }
            guard date > now else { throw .badRequest("invalid_expiry", "expires_at must be in the future") }
            expiry = date
        }
        if let days {
            guard (1...3650).contains(days) else {
                throw .badRequest("invalid_expiry", "expires_in_days must be from 1 to 3650")
            }
            expiry = now.addingTimeInterval(TimeInterval(days) * 86_400)
        }
        if let maximumDays = configuration.maximumTokenLifetimeDays {
            let latest = now.addingTimeInterval(TimeInterval(maximumDays) * 86_400)
            guard let chosen = expiry else { return latest }
            guard chosen <= latest else {
                throw .badRequest("invalid_expiry", "this server allows tokens of at most \(maximumDays) days")
            }
        }
        return expiry
    }
}
