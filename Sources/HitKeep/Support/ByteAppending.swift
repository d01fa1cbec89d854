/// Writing text into a byte buffer, for what is built for every request (log lines, problem
/// documents) without going through intermediate strings.
extension Array where Element == UInt8 {
    /// Appends a literal's UTF-8 in one copy. A `StaticString` is bytes already, where appending a
    /// `String`'s UTF-8 view goes through the generic sequence path; the responses and log lines
    /// written for every request are mostly literals.
    mutating func appendLiteral(_ literal: StaticString) {
        literal.withUTF8Buffer { append(contentsOf: $0) }
    }

    /// Appends the string's UTF-8 in one copy from its contiguous storage.
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends `value` in decimal, without building a `String` for it first.
    mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
    }

    private mutating func appendDigits(_ value: UInt64) {
        if value >= 10 { appendDigits(value / 10) }
        append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
