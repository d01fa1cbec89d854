import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// A worker's own slot of the scoreboard: what it is doing and what it has done. On the request
/// path: `begin` is a clock read, a copy of at most 88 bytes and one store; `finish` a clock read
/// and seven stores. No system call, lock or allocation.
public struct WorkerSlot {
    private let board: Scoreboard
    /// The slot's position in the board.
    public let index: Int
    private let base: UnsafeMutablePointer<UInt64>
    private let routes: UnsafeMutablePointer<UInt64>

    /// Slot `index` of `board`, which this process alone now writes (the supervisor gave it).
    public init(board: Scoreboard, index: Int) {
        precondition(index >= 0 && index < board.slotCount, "no scoreboard slot \(index)")
        self.board = board
        self.index = index
        base = board.slotWord(index, 0)
        routes = base + ScoreboardLayout.Slot.routes
    }

    public var scoreboard: Scoreboard { board }

    /// The worker is ready to accept: from here on it counts as idle or busy instead of starting.
    public func ready() {
        (base + ScoreboardLayout.Slot.requestsThisProcess).store(0)
        (base + ScoreboardLayout.Slot.busySince).store(0)
        (base + ScoreboardLayout.Slot.readySince).publish(MonotonicClock.nanoseconds())
    }

    /// A request is in hand: the supervisor's request timeout runs from now, and the status page
    /// shows `method path`. Returns the start, for `finish`.
    @inline(__always)
    public func begin(method: String, path: String) -> UInt64 {
        let text = UnsafeMutableRawPointer(base + ScoreboardLayout.Slot.request)
        let capacity = ScoreboardLayout.Slot.requestBytes
        // Written while `busySince` is 0 (withdrawn in `finish`, behind a release fence), and
        // published by it: a reader that sees the same nonzero `busySince` before and after copying
        // the text has copied one request's text whole.
        var length = Self.copy(method.utf8, to: text, capacity: capacity - 1)
        text.storeBytes(of: 0x20, toByteOffset: length, as: UInt8.self)
        length += 1
        length += Self.copy(path.utf8, to: text + length, capacity: capacity - length)
        (base + ScoreboardLayout.Slot.requestLength).store(UInt64(length))
        let now = MonotonicClock.nanoseconds()
        (base + ScoreboardLayout.Slot.busySince).publish(now)
        return now
    }

    /// Copies what fits; a string not stored as contiguous UTF-8 (bridged from elsewhere, which the
    /// request's are not) is left out rather than copied to a temporary first.
    @inline(__always)
    private static func copy(_ utf8: String.UTF8View, to destination: UnsafeMutableRawPointer, capacity: Int) -> Int {
        utf8.withContiguousStorageIfAvailable { bytes in
            let count = min(bytes.count, capacity)
            if count > 0 { destination.copyMemory(from: bytes.baseAddress!, byteCount: count) }
            return count
        } ?? 0
    }

    /// The request that began at `started` was answered with `status`, by route `route` (the
    /// position of its label in the board's routes).
    @inline(__always)
    public func finish(started: UInt64, route: Int, status: Int) {
        let elapsed = MonotonicClock.nanoseconds() &- started
        let counters = routes + route * ScoreboardLayout.Route.words
        (counters + ScoreboardLayout.Route.statuses + StatusColumns.column(of: status)).add(1)
        (counters + ScoreboardLayout.Route.buckets + LatencyBuckets.bucket(of: elapsed)).add(1)
        (counters + ScoreboardLayout.Route.nanoseconds).add(elapsed)
        (base + ScoreboardLayout.Slot.requestsTotal).add(1)
        (base + ScoreboardLayout.Slot.requestsThisProcess).add(1)
        (base + ScoreboardLayout.Slot.busySince).store(0)
        hk_fence_release()
    }

    /// Counts an error PostgreSQL or libpq reported to this worker.
    public func countDatabaseError(_ kind: DatabaseErrorKind) {
        (base + ScoreboardLayout.Slot.databaseErrors + kind.rawValue).add(1)
    }
}

extension WorkerSlot {
    /// The slot of a worker that no supervisor started: a board of its own, with this process in
    /// its only slot, so that it counts and shows its status page all the same.
    public static func standalone(routes: [RouteLabel], maxRequests: Int) -> WorkerSlot {
        let board = Scoreboard.detached(slots: 1, routes: routes)
        var record = SupervisorRecord(board: board, settings: .init(workers: 1, requestTimeoutNanoseconds: 0, maxRequests: maxRequests))
        let index = record.reserveSlot()!
        record.started(getpid(), in: index)
        return WorkerSlot(board: board, index: index)
    }
}
