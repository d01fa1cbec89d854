/// The API client token format (docs/API.md §3): `hk_live_` + 32 base62 characters of secret + 6 base62
/// characters of the secret's CRC-32. The checksum lets a malformed or mistyped token be refused
/// without a database query, and lets secret scanners recognise real tokens.
public enum APIToken {
    static let prefix = "hk_live_"
    private static let secretLength = 32
    private static let checksumLength = 6
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A new token from the operating system's CSPRNG.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<secretLength).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return prefix + String(decoding: secret, as: UTF8.self) + checksum(of: secret)
    }

    /// Whether `token` has the form and a checksum that matches its secret.
    public static func isWellFormed(_ token: String) -> Bool {
        var token = token
        return token.withUTF8 { bytes in
            guard bytes.count == prefix.utf8.count + secretLength + checksumLength,
                  bytes.starts(with: prefix.utf8) else { return false }
            let body = UnsafeBufferPointer(rebasing: bytes[prefix.utf8.count...])
            guard body.allSatisfy(isBase62) else { return false }
            let secret = UnsafeBufferPointer(rebasing: body[..<secretLength])
            let sent = UnsafeBufferPointer(rebasing: body[secretLength...])
            let expected = checksumDigits(of: secret)
            return expected.withUnsafeBufferPointer { SecretDigest.constantTimeEquals($0, sent) }
        }
    }

    private static func isBase62(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
    }

    /// What the database and the dashboard show of a token: `hk_live_…` and its last 4 characters.
    static func hint(_ token: String) -> String {
        prefix + "…" + String(token.suffix(4))
    }

    private static func checksum(of secret: [UInt8]) -> String {
        String(decoding: secret.withUnsafeBufferPointer(checksumDigits), as: UTF8.self)
    }

    /// The secret's CRC-32 as six base62 digits, most significant first.
    private static func checksumDigits(of secret: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var value = CRC32.checksum(secret)
        var digits = [UInt8](repeating: alphabet[0], count: checksumLength)
        for position in stride(from: checksumLength - 1, through: 0, by: -1) {
            digits[position] = alphabet[Int(value % 62)]
            value /= 62
        }
        return digits
    }
}
