import CSupport

/// The supervisor's part of the scoreboard: which slot holds which worker, the pool's settings, and
/// what it has respawned and why. The supervisor alone writes these words.
public struct SupervisorRecord {
    public struct Settings {
        public var workers: Int
        public var requestTimeoutNanoseconds: UInt64
        public var maxRequests: Int

        public init(workers: Int, requestTimeoutNanoseconds: UInt64, maxRequests: Int) {
            self.workers = workers
            self.requestTimeoutNanoseconds = requestTimeoutNanoseconds
            self.maxRequests = maxRequests
        }
    }

    public let board: Scoreboard
    private var occupied: [Bool]

    public init(board: Scoreboard, settings: Settings) {
        self.board = board
        occupied = Array(repeating: false, count: board.slotCount)
        let header = ScoreboardLayout.Header.self
        board.word(header.configuredWorkers).store(UInt64(settings.workers))
        board.word(header.requestTimeoutNanoseconds).store(settings.requestTimeoutNanoseconds)
        board.word(header.maxRequests).store(UInt64(settings.maxRequests))
    }

    /// Takes a free slot for a worker about to start, or nil when all are taken (a rolling restart
    /// on top of another, with old workers still finishing).
    public mutating func reserveSlot() -> Int? {
        guard let slot = occupied.firstIndex(of: false) else { return nil }
        occupied[slot] = true
        clear(slot)
        board.slotWord(slot, ScoreboardLayout.Slot.spawnedAt).store(MonotonicClock.nanoseconds())
        board.slotWord(slot, ScoreboardLayout.Slot.phase).store(SlotPhase.running.rawValue)
        return slot
    }

    public func started(_ pid: Int32, in slot: Int) {
        board.slotWord(slot, ScoreboardLayout.Slot.pid).store(UInt64(pid))
    }

    public func retiring(_ slot: Int) {
        board.slotWord(slot, ScoreboardLayout.Slot.phase).store(SlotPhase.retiring.rawValue)
    }

    /// The slot's worker has ended (or never started): the slot is free, its cumulative counters stay.
    public mutating func release(_ slot: Int) {
        occupied[slot] = false
        clear(slot)
        board.slotWord(slot, ScoreboardLayout.Slot.phase).store(SlotPhase.empty.rawValue)
    }

    private func clear(_ slot: Int) {
        for offset in [ScoreboardLayout.Slot.pid, ScoreboardLayout.Slot.readySince, ScoreboardLayout.Slot.busySince,
                       ScoreboardLayout.Slot.requestsThisProcess, ScoreboardLayout.Slot.requestLength] {
            board.slotWord(slot, offset).store(0)
        }
    }

    /// When the request in hand in `slot` began (monotonic ns), or nil when the worker is idle.
    public func busySince(_ slot: Int) -> UInt64? {
        let since = board.slotWord(slot, ScoreboardLayout.Slot.busySince).acquired
        return since == 0 ? nil : since
    }

    /// "METHOD /path" of the request in hand in `slot`, as far as the slot holds it.
    public func currentRequest(_ slot: Int) -> String {
        PoolSnapshot.currentRequest(in: board, slot: slot) ?? "-"
    }

    public func rollUpStarted(_ pid: Int32) {
        board.rollUpWord(ScoreboardLayout.RollUp.pid).store(UInt64(pid))
        board.rollUpWord(ScoreboardLayout.RollUp.readySince).store(0)
    }

    /// Roll-up `pid` has ended; after a rolling restart its successor may already be running.
    public func rollUpEnded(_ pid: Int32) {
        guard board.rollUpWord(ScoreboardLayout.RollUp.pid).shared == UInt64(pid) else { return }
        board.rollUpWord(ScoreboardLayout.RollUp.pid).store(0)
        board.rollUpWord(ScoreboardLayout.RollUp.readySince).store(0)
    }

    /// Counts a respawn; `detail` is the signal or exit status that ended the process.
    public func respawned(_ child: PoolChild, pid: Int32, reason: RespawnReason, detail: Int32) {
        let header = ScoreboardLayout.Header.self
        board.word(header.respawns + child.rawValue * RespawnReason.allCases.count + reason.rawValue).add(1)
        // Withdrawn while the fields change, so that a reader never takes half of two respawns.
        board.word(header.lastRespawnAt).store(0)
        hk_fence_release()
        board.word(header.lastRespawnChild).store(UInt64(child.rawValue + 1))
        board.word(header.lastRespawnPID).store(UInt64(pid))
        board.word(header.lastRespawnReason).store(UInt64(reason.rawValue))
        board.word(header.lastRespawnDetail).store(UInt64(UInt32(bitPattern: detail)))
        board.word(header.lastRespawnAt).publish(MonotonicClock.nanoseconds())
    }

    public func draining() {
        board.word(ScoreboardLayout.Header.draining).store(1)
    }
}
