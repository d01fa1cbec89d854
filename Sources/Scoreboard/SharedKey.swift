/// The 64-bit key a shared table files a string under: FNV-1a over its UTF-8, the same in every
/// process of the pool (Swift's own `Hasher` is seeded per process, so it cannot be shared).
/// 0 and 1 mean "empty" and "being claimed" in the tables, so no key is ever either.
enum SharedKey {
    static func hash(_ text: String, salt: UInt64 = 0) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        value ^= salt &* 0x9e37_79b9_7f4a_7c15
        return value > 1 ? value : value + 2
    }
}
