import CArgon2

/// Argon2id through libargon2, with the parameters OWASP recommends as a floor (19 MiB, t=2, p=1).
enum PasswordHasher {
    private static let timeCost: UInt32 = 2
    private static let memoryKiB: UInt32 = 19 * 1024
    private static let parallelism: UInt32 = 1
    private static let saltLength = 16
    private static let hashLength = 32

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
    static func hash(_ password: String) -> String {
        let salt = SecretDigest.randomBytes(saltLength)
        let length = argon2_encodedlen(timeCost, memoryKiB, parallelism, UInt32(saltLength), UInt32(hashLength), Argon2_id)
        var encoded = [CChar](repeating: 0, count: length)
        let password = Array(password.utf8)
        let status = argon2id_hash_encoded(timeCost, memoryKiB, parallelism, password, password.count,
                                           salt, salt.count, hashLength, &encoded, length)
        precondition(status == ARGON2_OK.rawValue, "argon2id_hash_encoded failed: \(status)")
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `password` matches the PHC string. libargon2 compares in constant time.
    static func verify(_ password: String, against encoded: String) -> Bool {
        let password = Array(password.utf8)
        return argon2id_verify(encoded, password, password.count) == ARGON2_OK.rawValue
    }

    /// A hash of a password nobody has, verified when an email is unknown so that the answer takes
    /// as long as for a wrong password.
    static let decoy: String = hash("decoy password that no account has")
}
