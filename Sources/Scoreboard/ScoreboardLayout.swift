/// Where each counter lies in the scoreboard, in 64-bit words from its start: a header for the pool
/// as a whole and the roll-up process, one slot per worker, then the two shared tables. Every word
/// of the header and the slots has a single writing process (the supervisor, one worker, or the
/// roll-up), noted beside it, so none of them needs a lock or an atomic read-modify-write. Slots
/// start on a cache line of their own, so that workers on different cores do not invalidate each
/// other's lines. The shared tables (`QuotaLeases`, `UsageCounters`) are the exception: every worker
/// writes them, with atomic compare-and-swap and add, and they are laid out in whole cache lines.
struct ScoreboardLayout: Equatable {
    /// "hitkeep" and the layout's version: a worker of an older build refuses a newer board.
    static let magic: UInt64 = 0x6869_746b_6565_7000 | 2

    /// The pool as a whole.
    enum Header {
        static let magic = 0                 // supervisor, at creation
        static let byteCount = 1
        static let slotCount = 2
        static let routeCount = 3
        static let routeFingerprint = 4
        static let supervisorPID = 5
        static let startedWallSeconds = 6
        static let startedMonotonic = 7
        static let configuredWorkers = 8
        static let requestTimeoutNanoseconds = 9
        static let maxRequests = 10
        static let draining = 11             // supervisor: 1 once SIGTERM has started the drain
        // The last respawn: `lastRespawnAt` is published after the three before it.
        static let lastRespawnChild = 12     // supervisor: PoolChild + 1
        static let lastRespawnPID = 13
        static let lastRespawnReason = 14
        static let lastRespawnDetail = 15    // the signal or the exit status
        static let lastRespawnAt = 16
        static let respawns = 17             // supervisor: [PoolChild][RespawnReason]
        static let rollUp = respawns + PoolChild.allCases.count * RespawnReason.allCases.count
        static let words = (rollUp + RollUp.words + 7) / 8 * 8
    }

    /// The roll-up process, inside the header.
    enum RollUp {
        static let pid = 0                   // supervisor
        static let readySince = 1            // roll-up (monotonic ns; reset by the supervisor)
        static let folds = 2                 // roll-up, cumulative over roll-up processes
        static let eventsFolded = 3
        static let failures = 4
        static let lastDrainedAt = 5         // roll-up: when a fold last left nothing to fold
        static let databaseErrors = 6        // roll-up: [DatabaseErrorKind]
        static let words = databaseErrors + DatabaseErrorKind.allCases.count
    }

    /// One worker process at a time; counters marked cumulative carry on across the processes that
    /// use the slot, so that they only ever grow, as Prometheus counters must.
    enum Slot {
        static let phase = 0                 // supervisor: SlotPhase
        static let pid = 1                   // supervisor
        static let spawnedAt = 2             // supervisor (monotonic ns)
        static let readySince = 3            // worker, once accepting (monotonic ns); 0 while starting
        static let busySince = 4             // worker: when the request in hand began; 0 when idle
        static let requestsThisProcess = 5   // worker
        static let requestsTotal = 6         // worker, cumulative
        static let requestLength = 7         // worker: bytes of `request`
        static let request = 8               // worker: "METHOD /path" of the request in hand, truncated
        static let requestBytes = 88
        static let databaseErrors = request + requestBytes / 8   // worker, cumulative: [DatabaseErrorKind]
        static let routes = databaseErrors + DatabaseErrorKind.allCases.count
    }

    /// Per route, inside a slot: requests by status column, by latency bucket, and their total time.
    enum Route {
        static let statuses = 0
        static let buckets = statuses + StatusColumns.count
        static let nanoseconds = buckets + LatencyBuckets.count
        static let words = nanoseconds + 1
    }

    let slotCount: Int
    let routeCount: Int

    var slotWords: Int { (Slot.routes + routeCount * Route.words + 7) / 8 * 8 }
    var quotaLeasesOffset: Int { Header.words + slotCount * slotWords }
    var usageCountersOffset: Int { quotaLeasesOffset + QuotaLeases.entryCount * QuotaLeases.entryWords }
    var totalWords: Int { usageCountersOffset + UsageCounters.entryCount * UsageCounters.entryWords }
    var byteCount: Int { totalWords * MemoryLayout<UInt64>.size }

    func slotOffset(_ slot: Int) -> Int { Header.words + slot * slotWords }
}

/// What the supervisor says of a slot.
enum SlotPhase: UInt64 {
    case empty = 0
    case running = 1
    /// Told to finish its request and exit (a rolling restart).
    case retiring = 2
}
