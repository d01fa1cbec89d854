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
              !trimmed.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        else { return nil }
        return trimmed
    }

    /// The form stored for comparisons and throttling.
    static func key(_ email: String) -> String {
        email.lowercased()
    }
}

extension String {
    func trimmingWhitespaceAndNewlines() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
