import CSupport

/// Requests counted per key (an API client) and day, in `counterCount` counters each, in the
/// scoreboard: every worker of the pool adds to them with an atomic add as it answers, and one
/// process (the roll-up) drains them about once a second into the database. A worker killed at any
/// moment loses nothing it had counted, since the counts live in the supervisor's memory; the drain
/// takes each counter with an atomic exchange, so a count is drained once, by whoever drains.
///
/// Each entry: the key word (0: free; 1: being claimed; else the key's hash, published once the
/// rest is written), the day, the key's text (up to 31 bytes), the counters, and a word the drain
/// alone writes.
public struct UsageCounters {
    public static let entryCount = 4096
    public static let counterCount = 25
    static let entryWords = 32
    private static let probeLength = 16
    private static let keyBytes = 31
    private static let claiming: UInt64 = 1

    private enum Word {
        static let key = 0
        static let day = 1
        static let text = 2          // 4 words: a length byte, then the bytes
        static let counters = 6
        static let seenClaiming = counters + counterCount    // the drain's own
    }

    /// Held so that the memory `base` points into lives as long as this does.
    private let board: Scoreboard
    private let base: UnsafeMutablePointer<UInt64>

    public init(board: Scoreboard) {
        self.board = board
        base = board.words + board.layout.usageCountersOffset
    }

    /// Adds `amount` to counter `counter` of `key` on `day`; false when the key is too long or the
    /// table has no room near the key's home (then the count is lost, and the caller may say so).
    @discardableResult
    public func add(key: String, day: UInt64, counter: Int, amount: UInt64 = 1) -> Bool {
        precondition(counter >= 0 && counter < Self.counterCount, "no usage counter \(counter)")
        guard key.utf8.count <= Self.keyBytes, let entry = entry(for: key, day: day) else { return false }
        hk_word_atomic_add(entry + Word.counters + counter, amount)
        return true
    }

    /// What one entry had counted since the last drain.
    public struct Drained: Sendable {
        public let key: String
        public let day: UInt64
        /// Counter index and count, for the counters that moved.
        public let counts: [(counter: Int, count: UInt64)]
    }

    /// Takes every count out of the table. Entries of days before `oldestLiveDay` that had nothing
    /// left are freed for other keys; an entry stuck half-claimed since the last drain (its claimer
    /// was killed in the middle) is freed too.
    public func drain(oldestLiveDay: UInt64) -> [Drained] {
        var drained: [Drained] = []
        for position in 0..<Self.entryCount {
            let words = base + position * Self.entryWords
            let key = words.acquired
            if key == 0 { continue }
            if key == Self.claiming {
                if (words + Word.seenClaiming).shared == 1 {
                    (words + Word.seenClaiming).store(0)
                    _ = hk_word_compare_exchange(words, Self.claiming, 0)
                } else {
                    (words + Word.seenClaiming).store(1)
                }
                continue
            }
            (words + Word.seenClaiming).store(0)
            let day = (words + Word.day).shared
            var counts: [(counter: Int, count: UInt64)] = []
            for counter in 0..<Self.counterCount {
                let count = hk_word_exchange(words + Word.counters + counter, 0)
                if count > 0 { counts.append((counter, count)) }
            }
            if !counts.isEmpty {
                drained.append(Drained(key: text(at: words), day: day, counts: counts))
            } else if day < oldestLiveDay {
                _ = hk_word_compare_exchange(words, key, 0)
            }
        }
        return drained
    }

    /// Puts drained counts back, when they could not be stored.
    public func restore(_ drained: [Drained]) {
        for entry in drained {
            for (counter, count) in entry.counts { add(key: entry.key, day: entry.day, counter: counter, amount: count) }
        }
    }

    private func entry(for key: String, day: UInt64) -> UnsafeMutablePointer<UInt64>? {
        let hash = SharedKey.hash(key, salt: day &+ 2)
        let home = Int(hash % UInt64(Self.entryCount))
        for step in 0..<Self.probeLength {
            let words = base + (home + step) % Self.entryCount * Self.entryWords
            let found = words.acquired
            if found == hash { return words }
            if found == 0 && hk_word_compare_exchange(words, 0, Self.claiming) != 0 {
                (words + Word.day).store(day)
                writeText(key, at: words)
                words.publish(hash)
                return words
            }
        }
        return nil
    }

    private func writeText(_ key: String, at words: UnsafeMutablePointer<UInt64>) {
        let bytes = UnsafeMutableRawPointer(words + Word.text)
        let utf8 = Array(key.utf8.prefix(Self.keyBytes))
        bytes.storeBytes(of: UInt8(utf8.count), as: UInt8.self)
        for (offset, byte) in utf8.enumerated() { bytes.storeBytes(of: byte, toByteOffset: 1 + offset, as: UInt8.self) }
    }

    private func text(at words: UnsafeMutablePointer<UInt64>) -> String {
        let bytes = UnsafeRawPointer(words + Word.text)
        let count = Int(bytes.load(as: UInt8.self))
        return String(decoding: UnsafeRawBufferPointer(start: bytes + 1, count: min(count, Self.keyBytes)), as: UTF8.self)
    }
}
