/// Hexadecimal digits, read in either case and written in lowercase: percent-escapes in query
/// strings, `\u` escapes in JSON, PostgreSQL's `bytea`, checksums and request ids.
public enum HexDigits {
    /// The value (0 to 15) of one hex digit, `0`–`9`, `a`–`f` or `A`–`F`; nil for any other byte.
    @inlinable
    public static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }

    /// The byte that two hex digits spell, the high one first (`%2F`, `\x2f`); nil unless both are digits.
    @inlinable
    public static func byte(high: UInt8, low: UInt8) -> UInt8? {
        guard let high = value(of: high), let low = value(of: low) else { return nil }
        return high << 4 | low
    }

    /// The lowercase digit for the low four bits of `nibble`; the high four are ignored, so
    /// `digit(byte >> 4)` and `digit(byte)` are a byte's two digits.
    @inlinable
    public static func digit(_ nibble: UInt8) -> UInt8 {
        let value = nibble & 0x0F
        return value < 10 ? UInt8(ascii: "0") &+ value : UInt8(ascii: "a") &+ (value &- 10)
    }

    /// `prefix`, then two lowercase digits a byte, written straight into the new string's storage:
    /// one allocation, where mapping each byte to a string and joining them makes one a byte.
    public static func string(_ bytes: UnsafeRawBufferPointer, prefix: StaticString = "") -> String {
        let prefixCount = prefix.utf8CodeUnitCount
        return String(unsafeUninitializedCapacity: prefixCount + 2 * bytes.count) { text in
            for index in 0..<prefixCount {
                text[index] = prefix.utf8Start[index]
            }
            var position = prefixCount
            for byte in bytes {
                text[position] = digit(byte >> 4)
                text[position + 1] = digit(byte)
                position += 2
            }
            return position
        }
    }
}
