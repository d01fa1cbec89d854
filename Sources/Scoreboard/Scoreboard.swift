import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// The pool's scoreboard: one block of memory that the supervisor creates and every worker and the
/// roll-up process map, as php-fpm's scoreboard is. Workers count their own requests in it with a
/// few plain stores; the supervisor reads it to kill a worker stuck on one request, and whoever
/// serves the metrics or the status page reads it whole.
///
/// Workers are exec'd, so anonymous shared memory would not reach them: the board is a memfd, which
/// the supervisor hands each child as a descriptor (`inheritedDescriptor`) to map.
public final class Scoreboard: @unchecked Sendable {
    // Unchecked: the memory is shared with other processes anyway, and every access to it goes
    // through the atomics of SharedWord.swift, so threads of one process may share it as well.

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Where a child finds the board: the supervisor puts it here when it starts one.
    public static let inheritedDescriptor: Int32 = 3

    let words: UnsafeMutablePointer<UInt64>
    let layout: ScoreboardLayout
    /// The labels of the per-route counters, in their order.
    public let routes: [RouteLabel]
    /// The memfd, in the process that created the board; nil in its children and in a detached board.
    public let descriptor: Int32?
    private let mapped: Bool

    private init(words: UnsafeMutablePointer<UInt64>, layout: ScoreboardLayout, routes: [RouteLabel],
                 descriptor: Int32?, mapped: Bool) {
        self.words = words
        self.layout = layout
        self.routes = routes
        self.descriptor = descriptor
        self.mapped = mapped
    }

    deinit {
        if mapped {
            munmap(words, layout.byteCount)
        } else {
            words.deallocate()
        }
        if let descriptor { close(descriptor) }
    }

    /// A new board for `slots` workers at once, in a memfd the supervisor's children inherit.
    public static func create(slots: Int, routes: [RouteLabel]) throws -> Scoreboard {
        let layout = ScoreboardLayout(slotCount: slots, routeCount: routes.count)
        let created = hk_create_shared_memory("hitkeep-scoreboard", UInt64(layout.byteCount))
        guard created >= 0 else { throw Failure(description: "cannot create the scoreboard: \(String(cString: strerror(errno)))") }
        // Kept above the low descriptors: a child gets it at `inheritedDescriptor` through dup2,
        // which would leave close-on-exec set if the two numbers were the same.
        let descriptor = fcntl(created, F_DUPFD_CLOEXEC, 10)
        close(created)
        guard descriptor >= 0, let memory = map(descriptor, byteCount: layout.byteCount) else {
            if descriptor >= 0 { close(descriptor) }
            throw Failure(description: "cannot map the scoreboard: \(String(cString: strerror(errno)))")
        }
        let board = Scoreboard(words: memory, layout: layout, routes: routes, descriptor: descriptor, mapped: true)
        board.writeHeader(fingerprint: RouteLabel.fingerprint(of: routes))
        return board
    }

    /// The board a supervisor handed this process at `descriptor`, which is closed here either way.
    /// Refused when it was laid out by another build, for other routes.
    public static func attach(descriptor: Int32 = inheritedDescriptor, routes: [RouteLabel]) throws -> Scoreboard {
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_size >= ScoreboardLayout.Header.words * 8,
              let memory = map(descriptor, byteCount: Int(status.st_size)) else {
            throw Failure(description: "no scoreboard at descriptor \(descriptor)")
        }
        let header = ScoreboardLayout.Header.self
        let slots = (memory + header.slotCount).acquired
        guard (memory + header.magic).acquired == ScoreboardLayout.magic, slots < 1 << 20,
              memory[header.byteCount] == UInt64(status.st_size), memory[header.routeCount] == UInt64(routes.count),
              ScoreboardLayout(slotCount: Int(slots), routeCount: routes.count).byteCount == Int(status.st_size),
              memory[header.routeFingerprint] == RouteLabel.fingerprint(of: routes) else {
            munmap(memory, Int(status.st_size))
            throw Failure(description: "the scoreboard was laid out by another build of hitkeep")
        }
        let layout = ScoreboardLayout(slotCount: Int(slots), routeCount: routes.count)
        return Scoreboard(words: memory, layout: layout, routes: routes, descriptor: nil, mapped: true)
    }

    /// A board in this process's own memory, for a worker that no `hitkeep serve` started
    /// (spawn-fcgi): it counts as a pool's worker does, and its status page shows that one worker.
    public static func detached(slots: Int = 1, routes: [RouteLabel]) -> Scoreboard {
        let layout = ScoreboardLayout(slotCount: slots, routeCount: routes.count)
        let memory = UnsafeMutablePointer<UInt64>.allocate(capacity: layout.totalWords)
        memory.initialize(repeating: 0, count: layout.totalWords)
        let board = Scoreboard(words: memory, layout: layout, routes: routes, descriptor: nil, mapped: false)
        board.writeHeader(fingerprint: RouteLabel.fingerprint(of: routes))
        return board
    }

    private static func map(_ descriptor: Int32, byteCount: Int) -> UnsafeMutablePointer<UInt64>? {
        let memory = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        guard let memory, memory != MAP_FAILED else { return nil }
        return memory.bindMemory(to: UInt64.self, capacity: byteCount / 8)
    }

    private func writeHeader(fingerprint: UInt64) {
        let header = ScoreboardLayout.Header.self
        word(header.byteCount).store(UInt64(layout.byteCount))
        word(header.slotCount).store(UInt64(layout.slotCount))
        word(header.routeCount).store(UInt64(layout.routeCount))
        word(header.routeFingerprint).store(fingerprint)
        word(header.supervisorPID).store(UInt64(getpid()))
        word(header.startedWallSeconds).store(UInt64(time(nil)))
        word(header.startedMonotonic).store(MonotonicClock.nanoseconds())
        word(header.magic).publish(ScoreboardLayout.magic)
    }

    public var slotCount: Int { layout.slotCount }

    @inline(__always)
    func word(_ offset: Int) -> UnsafeMutablePointer<UInt64> { words + offset }

    @inline(__always)
    func slotWord(_ slot: Int, _ offset: Int) -> UnsafeMutablePointer<UInt64> {
        words + layout.slotOffset(slot) + offset
    }

    @inline(__always)
    func rollUpWord(_ offset: Int) -> UnsafeMutablePointer<UInt64> {
        words + ScoreboardLayout.Header.rollUp + offset
    }
}
