import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// The whole scoreboard read at one moment, for the metrics and the status page. Each word is read
/// once; words that belong together (a busy worker's start and its request line, the last respawn)
/// are read so that they come from the same update.
public struct PoolSnapshot: Sendable {
    public enum WorkerState: String, Sendable {
        case starting, idle, busy
    }

    public struct Worker: Sendable {
        public var slot: Int
        public var pid: Int32
        public var state: WorkerState
        /// Told to finish and exit (a rolling restart).
        public var retiring: Bool
        public var upNanoseconds: UInt64
        public var requestsThisProcess: UInt64
        /// How long the request in hand has run, and what it is.
        public var busyNanoseconds: UInt64?
        public var request: String?
    }

    public struct RouteCounts: Sendable {
        public var statuses: [UInt64]
        public var buckets: [UInt64]
        public var nanoseconds: UInt64
        public var requests: UInt64 { buckets.reduce(0, +) }
    }

    public struct Respawn: Sendable {
        public var child: PoolChild
        public var pid: Int32
        public var reason: RespawnReason
        /// The signal or the exit status.
        public var detail: Int32
        public var agoNanoseconds: UInt64
    }

    public struct RollUp: Sendable {
        public var pid: Int32
        public var running: Bool
        public var folds: UInt64
        public var eventsFolded: UInt64
        public var failures: UInt64
        /// Since the roll-up last left nothing to fold (or since it started, if it has not yet).
        public var lagNanoseconds: UInt64?
    }

    public var routes: [RouteLabel]
    public var supervisorPID: Int32
    public var startedWallSeconds: UInt64
    public var upNanoseconds: UInt64
    public var configuredWorkers: Int
    public var requestTimeoutNanoseconds: UInt64
    public var maxRequests: Int
    public var draining: Bool
    public var workers: [Worker]
    public var requestsTotal: UInt64
    public var routeCounts: [RouteCounts]
    /// [PoolChild][RespawnReason]
    public var respawns: [[UInt64]]
    public var lastRespawn: Respawn?
    public var rollUp: RollUp
    /// [DatabaseErrorKind], of the workers and of the roll-up.
    public var workerDatabaseErrors: [UInt64]
    public var rollUpDatabaseErrors: [UInt64]

    public func count(_ state: WorkerState) -> Int { workers.filter { $0.state == state }.count }

    /// The slot of the worker taking this snapshot for its status page, whose own request is no
    /// news to the reader.
    public var readerSlot: Int?

    /// The busy worker whose request has run longest, the reader aside.
    public var longestRunning: Worker? {
        workers.filter { $0.busyNanoseconds != nil && $0.slot != readerSlot }.max { $0.busyNanoseconds! < $1.busyNanoseconds! }
    }

    public init(of board: Scoreboard, readerSlot: Int? = nil) {
        self.readerSlot = readerSlot
        let now = MonotonicClock.nanoseconds()
        let header = ScoreboardLayout.Header.self
        let layout = board.layout
        routes = board.routes
        supervisorPID = Int32(truncatingIfNeeded: board.word(header.supervisorPID).shared)
        startedWallSeconds = board.word(header.startedWallSeconds).shared
        upNanoseconds = now &- board.word(header.startedMonotonic).shared
        configuredWorkers = Int(board.word(header.configuredWorkers).shared)
        requestTimeoutNanoseconds = board.word(header.requestTimeoutNanoseconds).shared
        maxRequests = Int(board.word(header.maxRequests).shared)
        draining = board.word(header.draining).shared != 0

        let kinds = DatabaseErrorKind.allCases.count
        workers = []
        requestsTotal = 0
        workerDatabaseErrors = Array(repeating: 0, count: kinds)
        routeCounts = Array(repeating: RouteCounts(statuses: Array(repeating: 0, count: StatusColumns.count),
                                                   buckets: Array(repeating: 0, count: LatencyBuckets.count),
                                                   nanoseconds: 0),
                            count: layout.routeCount)
        for slot in 0..<layout.slotCount {
            let word = { board.slotWord(slot, $0).shared }
            requestsTotal += word(ScoreboardLayout.Slot.requestsTotal)
            for kind in 0..<kinds { workerDatabaseErrors[kind] += word(ScoreboardLayout.Slot.databaseErrors + kind) }
            for route in 0..<layout.routeCount {
                let base = ScoreboardLayout.Slot.routes + route * ScoreboardLayout.Route.words
                for column in 0..<StatusColumns.count {
                    routeCounts[route].statuses[column] += word(base + ScoreboardLayout.Route.statuses + column)
                }
                for bucket in 0..<LatencyBuckets.count {
                    routeCounts[route].buckets[bucket] += word(base + ScoreboardLayout.Route.buckets + bucket)
                }
                routeCounts[route].nanoseconds += word(base + ScoreboardLayout.Route.nanoseconds)
            }
            guard let phase = SlotPhase(rawValue: word(ScoreboardLayout.Slot.phase)), phase != .empty else { continue }
            let readySince = board.slotWord(slot, ScoreboardLayout.Slot.readySince).acquired
            var worker = Worker(slot: slot, pid: Int32(truncatingIfNeeded: word(ScoreboardLayout.Slot.pid)),
                                state: readySince == 0 ? .starting : .idle, retiring: phase == .retiring,
                                upNanoseconds: now &- word(ScoreboardLayout.Slot.spawnedAt),
                                requestsThisProcess: word(ScoreboardLayout.Slot.requestsThisProcess))
            if readySince != 0, let (since, request) = Self.request(in: board, slot: slot) {
                worker.state = .busy
                worker.busyNanoseconds = now > since ? now - since : 0
                worker.request = request
            }
            workers.append(worker)
        }

        respawns = PoolChild.allCases.map { child in
            RespawnReason.allCases.map { reason in
                board.word(header.respawns + child.rawValue * RespawnReason.allCases.count + reason.rawValue).shared
            }
        }
        lastRespawn = Self.lastRespawn(in: board, now: now)

        let rollUpWord = { board.rollUpWord($0).shared }
        let rollUpReady = board.rollUpWord(ScoreboardLayout.RollUp.readySince).acquired
        let drained = rollUpWord(ScoreboardLayout.RollUp.lastDrainedAt)
        let caughtUp = max(drained, rollUpReady)
        rollUp = RollUp(pid: Int32(truncatingIfNeeded: rollUpWord(ScoreboardLayout.RollUp.pid)),
                        running: rollUpReady != 0,
                        folds: rollUpWord(ScoreboardLayout.RollUp.folds),
                        eventsFolded: rollUpWord(ScoreboardLayout.RollUp.eventsFolded),
                        failures: rollUpWord(ScoreboardLayout.RollUp.failures),
                        lagNanoseconds: caughtUp == 0 ? nil : (now > caughtUp ? now - caughtUp : 0))
        rollUpDatabaseErrors = (0..<kinds).map { rollUpWord(ScoreboardLayout.RollUp.databaseErrors + $0) }
    }

    /// The start and text of the request in hand in `slot`, or nil when the worker is idle.
    static func request(in board: Scoreboard, slot: Int) -> (since: UInt64, text: String)? {
        for _ in 0..<4 {
            let since = board.slotWord(slot, ScoreboardLayout.Slot.busySince).acquired
            guard since != 0 else { return nil }
            let length = min(Int(board.slotWord(slot, ScoreboardLayout.Slot.requestLength).shared),
                             ScoreboardLayout.Slot.requestBytes)
            var words = [UInt64](repeating: 0, count: ScoreboardLayout.Slot.requestBytes / 8)
            for index in words.indices { words[index] = board.slotWord(slot, ScoreboardLayout.Slot.request + index).shared }
            hk_fence_acquire()
            guard board.slotWord(slot, ScoreboardLayout.Slot.busySince).shared == since else { continue }
            let text = words.withUnsafeBytes { String(decoding: $0.prefix(length), as: UTF8.self) }
            return (since, text)
        }
        return nil
    }

    static func currentRequest(in board: Scoreboard, slot: Int) -> String? {
        request(in: board, slot: slot)?.text
    }

    private static func lastRespawn(in board: Scoreboard, now: UInt64) -> Respawn? {
        let header = ScoreboardLayout.Header.self
        for _ in 0..<4 {
            let at = board.word(header.lastRespawnAt).acquired
            guard at != 0 else { continue }
            let child = PoolChild(rawValue: Int(board.word(header.lastRespawnChild).shared) - 1)
            let pid = Int32(truncatingIfNeeded: board.word(header.lastRespawnPID).shared)
            let reason = RespawnReason(rawValue: Int(board.word(header.lastRespawnReason).shared))
            let detail = Int32(bitPattern: UInt32(truncatingIfNeeded: board.word(header.lastRespawnDetail).shared))
            hk_fence_acquire()
            guard board.word(header.lastRespawnAt).shared == at, let child, let reason else { continue }
            return Respawn(child: child, pid: pid, reason: reason, detail: detail, agoNanoseconds: now > at ? now - at : 0)
        }
        return nil
    }
}
