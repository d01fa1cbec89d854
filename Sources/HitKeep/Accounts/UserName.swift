/// A person's display name: optional, at most 120 characters, no control characters.
enum UserName {
    static func validate(_ text: String) throws(DomainError) -> String {
        guard let name = TextValidation.label(text, maximum: 120, allowEmpty: true) else {
            throw .invalid("invalid_name", "name must be at most 120 characters, without control characters")
        }
        return name
    }
}
