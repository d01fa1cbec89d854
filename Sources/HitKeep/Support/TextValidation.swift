/// Checks shared by every free-text field a client may send.
enum TextValidation {
    /// Whether the text holds a control character (C0, DEL or C1), which no name or label needs and
    /// which can break logs, terminals and CSV exports.
    static func containsControlCharacters(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    /// Trims white space and checks the length in characters and the absence of control characters.
    static func label(_ text: String, maximum: Int, allowEmpty: Bool = false) -> String? {
        let trimmed = text.trimmingWhitespaceAndNewlines()
        guard allowEmpty || !trimmed.isEmpty, trimmed.count <= maximum, !containsControlCharacters(trimmed) else {
            return nil
        }
        return trimmed
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
