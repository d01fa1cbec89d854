extension Array where Element == UInt8 {
    /// Appends a literal's UTF-8 in one copy. A `StaticString` is bytes already, where appending a
    /// `String`'s UTF-8 view goes through the generic sequence path; the responses and log lines
    /// written for every request are mostly literals.
    mutating func appendLiteral(_ literal: StaticString) {
        literal.withUTF8Buffer { append(contentsOf: $0) }
    }
}
