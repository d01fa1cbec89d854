/// Email addresses as accounts use them: trimmed, compared case-insensitively.
enum EmailAddress {
    /// The trimmed address, or nil when it cannot be one (RFC 5321's length limits, one `@`,
    /// no white space or control characters).
    static func normalize(_ text: String) -> String? {
        let trimmed = text.trimmingWhitespaceAndNewlines()
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard trimmed.utf8.count <= 254, parts.count == 2,
              (1...64).contains(parts[0].utf8.count), !parts[1].isEmpty,
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains(".."),
              !trimmed.unicodeScalars.contains(where: \.properties.isWhitespace),
              !TextValidation.containsControlCharacters(trimmed)
        else { return nil }
        return trimmed
    }

    /// The normalized address, or 400 `invalid_email`.
    static func validate(_ text: String) throws(DomainError) -> String {
        guard let email = normalize(text) else { throw .invalid("invalid_email", "email is not a valid address") }
        return email
    }

    /// The form stored for comparisons and throttling.
    static func key(_ email: String) -> String {
        email.lowercased()
    }
}
