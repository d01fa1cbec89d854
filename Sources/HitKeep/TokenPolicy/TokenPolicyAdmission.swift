import Foundation

/// The token policy applied to a client being created or changed: each rule that fails is a 400
/// naming it, and what the client leaves open (its expiry, its rate limit) is filled in from the
/// policy. `APIClientIssuer` applies it to every client, whoever owns it and wherever it is made.
extension TokenPolicy {
    func admit(_ new: inout APIClientStore.New, now: Date) throws(DomainError) {
        try checkScopes(new.scopes)
        new.expiresAt = try expiry(new.expiresAt, now: now)
        new.rateLimitPerMinute = try rateLimit(new.rateLimitPerMinute ?? defaultRateLimit)
    }

    /// Only what the change sends is checked: renaming a client made under an older policy is not
    /// refused for what it already was (the admin's list of violations shows those).
    func admit(_ changes: inout APIClientStore.Changes, now: Date) throws(DomainError) {
        if let scopes = changes.scopes { try checkScopes(scopes) }
        if let expiresAt = changes.expiresAt { changes.expiresAt = .some(try expiry(expiresAt, now: now)) }
        if let limit = changes.rateLimitPerMinute { changes.rateLimitPerMinute = try rateLimit(limit) }
    }

    private func checkScopes(_ scopes: [Scope]) throws(DomainError) {
        let refused = scopes.filter { !allowedScopes.contains($0) }
        guard refused.isEmpty else {
            throw .invalid("scope_not_allowed", "the token policy does not allow the scope \(refused.map(\.rawValue).joined(separator: ", ")); allowed: \(allowedScopes.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The expiry a client asking for `requested` gets: the longest the policy allows when it asks
    /// for none.
    private func expiry(_ requested: Date?, now: Date) throws(DomainError) -> Date? {
        let latest = latestExpiry(from: now)
        guard let requested else {
            if let latest { return latest }
            if expiryRequired { throw .invalid("expiry_required", "the token policy requires an expiry: send expires_at or expires_in_days") }
            return nil
        }
        if let latest, let days = maxLifetimeDays, requested > latest {
            throw .invalid("invalid_expiry", "the token policy allows tokens of at most \(days) days (max_lifetime_days)")
        }
        return requested
    }

    private func rateLimit(_ limit: Int) throws(DomainError) -> Int {
        guard limit <= maxRateLimit else {
            throw .invalid("rate_limit_too_high", "the token policy allows at most \(maxRateLimit) requests a minute (max_rate_limit_per_minute)")
        }
        return limit
    }
}
