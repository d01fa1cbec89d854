/// A site's display name: 1 to 120 characters, no control characters.
enum SiteName {
    static func validate(_ text: String) throws(DomainError) -> String {
        guard let name = TextValidation.label(text, maximum: 120) else {
            throw .invalid("invalid_name", "name must be 1 to 120 characters, without control characters")
        }
        return name
    }
}
