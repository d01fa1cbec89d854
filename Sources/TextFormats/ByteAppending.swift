/// Writing text into a byte buffer, for what is built for every request (responses, log lines,
/// problem documents) without going through intermediate strings. Inlinable, as they were when
/// each module had its own copy: they are a copy call each, cheaper than a call across modules.
extension Array where Element == UInt8 {
    /// Appends a literal's UTF-8 in one copy. A `StaticString` is bytes already, where appending a
    /// `String`'s UTF-8 view goes through the generic sequence path; the responses and log lines
    /// written for every request are mostly literals.
    @inlinable
    public mutating func appendLiteral(_ literal: StaticString) {
        literal.withUTF8Buffer { append(contentsOf: $0) }
    }

    /// Appends the string's UTF-8 in one copy from its contiguous storage.
    @inlinable
    public mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}
