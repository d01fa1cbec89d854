/// The `limit` query parameter of list endpoints.
enum QueryLimit {
    static func parse(_ text: String?, default defaultValue: Int, maximum: Int) throws(DomainError) -> Int {
        guard let text else { return defaultValue }
        guard let value = Int(text), (1...maximum).contains(value) else {
            throw .invalid("invalid_limit", "limit must be a whole number from 1 to \(maximum)")
        }
        return value
    }
}
