/// Integers as ASCII decimal digits, written straight into bytes: the status and `Content-Length` of
/// every response, the request log line, the fields of every timestamp. Going through
/// `String(value)` or interpolation would make a string for each number on every request.
public enum DecimalDigits {
    /// The number of bytes `write` takes for `value`: a `-` if it is negative, then its digits,
    /// at least `minimumDigits` of them.
    @inlinable
    public static func count(_ value: Int64, minimumDigits: Int = 1) -> Int {
        var digits = 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return (value < 0 ? 1 : 0) + max(digits, minimumDigits)
    }

    /// Writes `value` at `start`, zero-padded to `minimumDigits` digits after any sign (`-007`), and
    /// returns the index after it. The buffer must have room for `count(value, minimumDigits:)`
    /// bytes there. Int64.min works: its magnitude fits the unsigned type it is computed in.
    @inlinable
    @discardableResult
    public static func write(_ value: Int64, minimumDigits: Int = 1, into buffer: UnsafeMutableBufferPointer<UInt8>,
                             at start: Int) -> Int {
        let end = start + count(value, minimumDigits: minimumDigits)
        var firstDigit = start
        if value < 0 {
            buffer[start] = UInt8(ascii: "-")
            firstDigit += 1
        }
        // From the last digit back, so that no digit has to be reversed or shifted into place;
        // once `rest` is 0 the same loop writes the leading zeros.
        var rest = value.magnitude
        var position = end
        while position > firstDigit {
            position -= 1
            buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        return end
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in decimal, zero-padded to `minimumDigits`, without making a `String` for it.
    /// The digits are written into a few bytes of stack and copied in one go.
    @inlinable
    public mutating func appendDecimal(_ value: Int64, minimumDigits: Int = 1) {
        let length = DecimalDigits.count(value, minimumDigits: minimumDigits)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { digits in
            DecimalDigits.write(value, minimumDigits: minimumDigits, into: digits, at: 0)
            append(contentsOf: UnsafeBufferPointer(digits))
        }
    }
}
