/// A site's display name: 1 to 120 characters, no control characters.
enum SiteName {
    static let maximumLength = 120

    static func validate(_ text: String) throws(DomainError) -> String {
        guard let name = TextValidation.label(text, maximum: maximumLength) else {
            throw .invalid("invalid_name", "name must be 1 to \(maximumLength) characters, without control characters")
        }
        return name
    }

    /// The name of a site registered without one: its domain, cut to the longest name allowed (a
    /// domain may have 253 characters, all ASCII, so the cut splits no character).
    static func defaultName(forDomain domain: String) -> String {
        String(domain.prefix(maximumLength))
    }
}
