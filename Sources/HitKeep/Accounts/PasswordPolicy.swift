/// Passwords are 8 to 1024 bytes of UTF-8; anything else is refused before it is hashed.
enum PasswordPolicy {
    static let minimumBytes = 8
    static let maximumBytes = 1024

    static func validate(_ password: String, field: String = "password") throws(DomainError) {
        guard (minimumBytes...maximumBytes).contains(password.utf8.count) else {
            throw .invalid("invalid_password", "\(field) must be \(minimumBytes) to \(maximumBytes) bytes long")
        }
    }
}
