import CSupport

/// Quota that the pool has leased from a shared store (the database) and not yet spent, per key
/// (an API client) and per window (a minute), in the scoreboard, so that every worker of the pool
/// spends from one pot: a worker takes one unit with a compare-and-swap, and only when the pot is
/// empty does one of them lease the next chunk. What a pool leased and did not spend is never
/// handed out by anyone else, so the shared store's count bounds what all pools together spend.
///
/// Each entry is one cache line: the key, then the pot as one word (so that a unit is taken or a
/// chunk added atomically, whatever other workers do at the same time, and whether or not a worker
/// is killed between two steps), then what the shared store said it had handed out in all.
///
///     pot:   tag (16 bits) | window (16) | exhausted (1) | units left (31)
///     taken: window (16) | units handed out by the shared store to every pool (48)
///
/// The tag is a second hash of the key: an entry taken over for another key after its window went
/// stale gets the other key's tag, so that a worker still holding the entry for the first key
/// neither spends nor credits the other's pot. Windows are compared modulo 2^16 minutes (45 days).
public struct QuotaLeases {
    public static let entryCount = 8192
    static let entryWords = 8
    /// How many neighbours of its home position a key may land in.
    private static let probeLength = 16

    /// Held so that the memory `base` points into lives as long as this does.
    private let board: Scoreboard
    private let base: UnsafeMutablePointer<UInt64>

    public init(board: Scoreboard) {
        self.board = board
        base = board.words + board.layout.quotaLeasesOffset
    }

    /// What spending one unit found.
    public enum Spending: Equatable {
        /// A unit was taken; `left` remain in the pool's pot for this window.
        case spent(left: Int)
        /// The pot is empty (or was for an older window): lease more.
        case empty
        /// The shared store has none left for this window.
        case exhausted
    }

    /// One key's entry.
    public struct Entry {
        let words: UnsafeMutablePointer<UInt64>
        let tag: UInt64

        private var pot: UnsafeMutablePointer<UInt64> { words + 1 }
        private var taken: UnsafeMutablePointer<UInt64> { words + 2 }

        /// Takes one unit of `window`'s quota, if the pool holds one.
        public func spend(window: UInt64) -> Spending {
            while true {
                let state = pot.acquired
                guard Pot(state).belongs(tag: tag, window: window) else { return .empty }
                let current = Pot(state)
                // Units credited by a lease that raced the one that found the store empty are
                // still spent before the window counts as exhausted.
                if current.left == 0 { return current.exhausted ? .exhausted : .empty }
                if hk_word_compare_exchange(pot, state, state - 1) != 0 { return .spent(left: Int(current.left) - 1) }
            }
        }

        /// Adds `amount` leased units to `window`'s pot. A lease for a window older than the pot's is
        /// dropped: its minute is over.
        public func credit(_ amount: Int, window: UInt64) {
            guard amount > 0 else { return }
            update(window: window) { current, same in
                Pot(tag: tag, window: window, exhausted: same && current.exhausted,
                    left: min((same ? current.left : 0) + UInt64(amount), Pot.maximumLeft))
            }
        }

        /// Marks `window` exhausted: the shared store has nothing left, so nobody asks it again
        /// before the window is over.
        public func exhaust(window: UInt64) {
            update(window: window) { current, same in
                Pot(tag: tag, window: window, exhausted: true, left: same ? current.left : 0)
            }
        }

        private func update(window: UInt64, _ next: (Pot, Bool) -> Pot) {
            while true {
                let state = pot.acquired
                let current = Pot(state)
                if current.tag == tag & 0xffff && current.isNewer(than: window) { return }
                let replacement = next(current, current.belongs(tag: tag, window: window))
                if hk_word_compare_exchange(pot, state, replacement.word) != 0 { return }
            }
        }

        /// The units left in the pool's pot for `window`.
        public func left(window: UInt64) -> Int {
            let current = Pot(pot.acquired)
            return current.belongs(tag: tag, window: window) ? Int(current.left) : 0
        }

        /// Records that the shared store has handed out `total` units of `window` in all.
        public func recordTaken(_ total: Int, window: UInt64) {
            let next = (window & 0xffff) << 48 | UInt64(min(max(total, 0), 1 << 47))
            while true {
                let state = taken.acquired
                if state >> 48 == window & 0xffff && state & (1 << 48 - 1) >= next & (1 << 48 - 1) { return }
                if hk_word_compare_exchange(taken, state, next) != 0 { return }
            }
        }

        /// The most the shared store was last seen to have handed out for `window`; 0 if unknown.
        public func taken(window: UInt64) -> Int {
            let state = taken.acquired
            return state >> 48 == window & 0xffff ? Int(state & (1 << 48 - 1)) : 0
        }
    }

    /// The entry for `key` in `window`, claimed if the key has none: an empty position near its home,
    /// or one whose window is over. nil when every position the key may use is taken by a live key
    /// (more than the table holds in use within two minutes): the caller then goes without the pot.
    public func entry(for key: String, window: UInt64) -> Entry? {
        let hash = SharedKey.hash(key)
        let tag = SharedKey.hash(key, salt: 1) >> 48
        let home = Int(hash % UInt64(Self.entryCount))
        for step in 0..<Self.probeLength {
            let words = entryWords(home + step)
            let found = words.acquired
            if found == hash { return Entry(words: words, tag: tag) }
            if found == 0 {
                if hk_word_compare_exchange(words, 0, hash) != 0 || words.acquired == hash { return Entry(words: words, tag: tag) }
            }
        }
        for step in 0..<Self.probeLength {
            let words = entryWords(home + step)
            let found = words.acquired
            let pot = Pot((words + 1).acquired)
            guard pot.window != window & 0xffff, pot.window != (window &- 1) & 0xffff else { continue }
            if hk_word_compare_exchange(words, found, hash) != 0 { return Entry(words: words, tag: tag) }
        }
        return nil
    }

    private func entryWords(_ position: Int) -> UnsafeMutablePointer<UInt64> {
        base + (position % Self.entryCount) * Self.entryWords
    }
}

/// The pot word of an entry, taken apart.
private struct Pot {
    static let maximumLeft: UInt64 = 1 << 31 - 1

    let word: UInt64

    init(_ word: UInt64) { self.word = word }

    init(tag: UInt64, window: UInt64, exhausted: Bool, left: UInt64) {
        word = (tag & 0xffff) << 48 | (window & 0xffff) << 32 | (exhausted ? 1 << 31 : 0) | (left & Self.maximumLeft)
    }

    var tag: UInt64 { word >> 48 }
    var window: UInt64 { word >> 32 & 0xffff }
    var exhausted: Bool { word & 1 << 31 != 0 }
    var left: UInt64 { word & Self.maximumLeft }

    func belongs(tag: UInt64, window: UInt64) -> Bool {
        self.tag == tag & 0xffff && self.window == window & 0xffff
    }

    /// Whether the pot's window comes after `window`, modulo 2^16.
    func isNewer(than window: UInt64) -> Bool {
        Int16(truncatingIfNeeded: self.window &- (window & 0xffff)) > 0
    }
}
