import Crypto
import PostgresClient

/// What the database keeps of a secret (a session cookie, an API token): its SHA-256. The secrets
/// are 256-bit random values, so a fast hash is enough; a copy of the database lets nobody in.
enum SecretDigest {
    static func sha256(_ secret: String) -> PostgresBytes {
        var secret = secret
        // Hashed from the string's own storage, and the digest copied out once.
        let digest = secret.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return PostgresBytes(digest.withUnsafeBytes { [UInt8]($0) })
    }

    /// Compares two byte strings in time that depends only on their length.
    static func constantTimeEquals(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        left.withUnsafeBufferPointer { left in
            right.withUnsafeBufferPointer { right in constantTimeEquals(left, right) }
        }
    }

    static func constantTimeEquals(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    /// `count` bytes from the operating system's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
