import Foundation

/// Universally unique lexicographically sortable identifiers: 48 bits of milliseconds and 80 random
/// bits, as 26 characters of Crockford base32.
public struct ULID: Sendable, Hashable, CustomStringConvertible {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public let description: String

    public init(date: Date = Date()) {
        var generator = SystemRandomNumberGenerator()
        self.init(milliseconds: UInt64(max(0, date.timeIntervalSince1970 * 1000)), using: &generator)
    }

    init(milliseconds: UInt64, using generator: inout some RandomNumberGenerator) {
        // 128 bits: time in the top 48, randomness below; encoded 5 bits at a time from the top,
        // the first character carrying the 3 bits left over.
        let high = (milliseconds << 16) | UInt64(UInt16.random(in: .min ... .max, using: &generator))
        let low = UInt64.random(in: .min ... .max, using: &generator)
        var characters = [UInt8](repeating: 0, count: 26)
        for position in 0..<26 {
            let bitFromEnd = (25 - position) * 5
            let value: UInt64
            if bitFromEnd >= 64 {
                value = high >> (bitFromEnd - 64)
            } else if bitFromEnd + 5 > 64 {
                value = (high << (64 - bitFromEnd)) | (low >> bitFromEnd)
            } else {
                value = low >> bitFromEnd
            }
            characters[position] = Self.alphabet[Int(value & 0x1F)]
        }
        description = String(decoding: characters, as: UTF8.self)
    }

    /// Accepts exactly 26 canonical (upper-case) Crockford characters whose value fits 128 bits.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 26, bytes[0] <= UInt8(ascii: "7"),
              bytes.allSatisfy({ Self.alphabet.contains($0) }) else { return nil }
        description = text
    }

    /// Whether `text` is a well-formed ULID.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        ULID(String(text)) != nil
    }
}
