/// A person's display name: optional, at most 120 characters, no control characters.
enum UserName {
    static func validate(_ text: String) throws(HTTPProblem) -> String {
        guard let name = TextValidation.label(text, maximum: 120, allowEmpty: true) else {
            throw .badRequest("invalid_name", "name must be at most 120 characters, without control characters")
        }
        return name
    }
}
