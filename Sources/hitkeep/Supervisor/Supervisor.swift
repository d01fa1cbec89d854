import Foundation
import Logging
import Scoreboard

#if canImport(Glibc)
import Glibc
#endif

/// Keeps a fixed pool of worker processes on one listening socket, in the manner of php-fpm's
/// static process manager, and one roll-up process beside them: replaces a child that dies
/// (backing off when one keeps dying at start), replaces a worker that retires after its request
/// limit, kills and replaces a worker busy on one request past the request timeout (php-fpm's
/// request_terminate_timeout), restarts them all on SIGHUP without closing the socket, and drains
/// them on SIGTERM or SIGINT. What it does is counted in the scoreboard it shares with them.
///
/// Signals are blocked and taken synchronously with sigtimedwait, so that no work happens in a
/// signal handler.
final class Supervisor {
    struct Settings {
        var workers: Int
        var shutdownTimeout: Duration
        /// Nanoseconds a worker may spend on one request before it is killed; 0 for no limit.
        var requestTimeoutNanoseconds: UInt64 = 0
    }

    private struct ChildProcess {
        let child: PoolChild
        let pid: pid_t
        let started: ContinuousClock.Instant
        /// The worker's scoreboard slot; nil for the roll-up, or for a worker started while every
        /// slot was taken (it is then neither counted nor timed).
        let slot: Int?
        var retiring = false
        /// Killed by the supervisor for running past the request timeout.
        var timedOut = false
    }

    private let spawner: ChildSpawner
    private let listening: ListeningSocket
    private let settings: Settings
    private let logger: Logger
    private var record: SupervisorRecord
    private var children: [pid_t: ChildProcess] = [:]
    /// Deaths in a row of children that did not live long; sets the restart delay.
    private var rapidFailures = 0
    private var nextSpawnAllowed = ContinuousClock.now
    private var shuttingDown = false
    /// Children that, while draining, had to be killed at the deadline or ended otherwise than told.
    private var drainFailures = 0

    init(spawner: ChildSpawner, listening: ListeningSocket, settings: Settings, record: SupervisorRecord, logger: Logger) {
        self.spawner = spawner
        self.listening = listening
        self.settings = settings
        self.record = record
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT has drained the pool. Returns the exit status for the process.
    func run() -> Int32 {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT] { sigaddset(&signals, signal) }
        sigprocmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        fillPool()
        while !shuttingDown {
            var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            let received = sigtimedwait(&signals, nil, &timeout)
            switch received {
            case SIGTERM, SIGINT, SIGQUIT:
                logger.info("draining workers", metadata: ["signal": .stringConvertible(received)])
                shuttingDown = true
                record.draining()
            case SIGHUP:
                restartAll()
            default:
                break
            }
            reap()
            if !shuttingDown {
                killWorkersPastTheRequestTimeout()
                fillPool()
            }
        }
        return drain()
    }

    private func activeCount(_ child: PoolChild) -> Int {
        children.values.filter { $0.child == child && !$0.retiring }.count
    }

    private func fillPool() {
        guard ContinuousClock.now >= nextSpawnAllowed else { return }
        for (child, wanted) in [(PoolChild.worker, settings.workers), (.rollUp, 1)] {
            while activeCount(child) < wanted {
                // Reserved before the child exists, so that its first writes cannot be overwritten.
                let slot = child == .worker ? record.reserveSlot() : nil
                if child == .worker && slot == nil {
                    logger.warning("every scoreboard slot is taken; this worker goes uncounted and untimed")
                }
                do {
                    let pid = try spawner.spawn(child, slot: slot)
                    children[pid] = ChildProcess(child: child, pid: pid, started: .now, slot: slot)
                    if let slot { record.started(pid, in: slot) }
                    if child == .rollUp { record.rollUpStarted(pid) }
                } catch {
                    if let slot { record.release(slot) }
                    logger.error("\(error)")
                    nextSpawnAllowed = .now + .seconds(1)
                    return
                }
            }
        }
    }

    /// A rolling restart: the new workers start before the old ones are told to finish, and the
    /// socket stays open throughout, so no request is refused.
    private func restartAll() {
        logger.info("restarting workers")
        let old = children.keys.filter { children[$0]?.retiring == false }
        for pid in old {
            children[pid]?.retiring = true
            if let slot = children[pid]?.slot { record.retiring(slot) }
        }
        nextSpawnAllowed = .now
        fillPool()
        for pid in old { kill(pid, SIGTERM) }
    }

    /// php-fpm's request_terminate_timeout: a worker that has been on one request for longer than
    /// the limit (stuck in a loop, stopped, waiting on something that never comes) is killed, and
    /// replaced once reaped. SIGKILL, because the drain that SIGTERM asks for would wait for the very
    /// request that is stuck, and a stopped process acts on no other signal. nginx sees the
    /// connection close without a response and answers its client with an error.
    private func killWorkersPastTheRequestTimeout() {
        let limit = settings.requestTimeoutNanoseconds
        guard limit > 0 else { return }
        let now = MonotonicClock.nanoseconds()
        for (pid, process) in children where process.child == .worker && !process.timedOut {
            guard let slot = process.slot, let since = record.busySince(slot), now > since, now - since > limit else { continue }
            logger.error("worker busy on one request past the request timeout; killing it", metadata: [
                "child": .stringConvertible(pid),
                "request": .string(record.currentRequest(slot)),
                "seconds": .stringConvertible(Double((now - since) / 1_000_000) / 1000),
            ])
            kill(pid, SIGKILL)
            children[pid]?.timedOut = true
        }
    }

    private func reap() {
        while let (pid, exit) = reapOne(blocking: false) {
            guard let process = children.removeValue(forKey: pid) else { continue }
            childEnded(process, exit)
        }
    }

    /// A child that has ended, and how, or nil when none has (or none is left).
    private func reapOne(blocking: Bool) -> (pid_t, ChildExit)? {
        var status: Int32 = 0
        let pid = waitpid(-1, &status, blocking ? 0 : WNOHANG)
        guard pid > 0 else { return nil }
        return (pid, ChildExit(waitStatus: status))
    }

    private func childEnded(_ process: ChildProcess, _ exit: ChildExit) {
        if let slot = process.slot { record.release(slot) }
        if process.child == .rollUp { record.rollUpEnded(process.pid) }
        if shuttingDown {
            // Told to stop: a worker exits 0 once its request is done; the roll-up, which folds in
            // single transactions, dies of the SIGTERM itself. Anything else is worth the exit status.
            let expected = exit.isSuccess || (process.child == .rollUp && exit == .signaled(SIGTERM))
            if !expected {
                drainFailures += 1
                logger.warning("\(process.child.name) ended badly while draining", metadata: [
                    "child": .stringConvertible(process.pid), "how": .string(exit.description)])
            }
            return
        }
        let reason = respawnReason(process, exit)
        record.respawned(process.child, pid: process.pid, reason: reason, detail: exit.detail)
        switch reason {
        case .reload, .maxRequests:
            // Replaced as planned: at once, and quietly.
            return
        case .requestTimeout:
            logger.warning("worker killed for the request timeout; replacing it", metadata: ["child": .stringConvertible(process.pid)])
            return
        case .signal, .exitStatus:
            break
        }
        let lived = ContinuousClock.now - process.started
        logger.warning("\(process.child.name) died", metadata: [
            "child": .stringConvertible(process.pid), "how": .string(exit.description), "reason": .string(reason.name)])
        if lived < .seconds(2) {
            rapidFailures += 1
            let delay = min(Duration.milliseconds(100) * (1 << min(rapidFailures, 6)), .seconds(5))
            nextSpawnAllowed = .now + delay
        } else {
            rapidFailures = 0
        }
    }

    private func respawnReason(_ process: ChildProcess, _ exit: ChildExit) -> RespawnReason {
        if process.retiring { return .reload }
        if process.timedOut { return .requestTimeout }
        switch exit {
        case .exited(status: 0) where process.child == .worker: return .maxRequests
        case .exited: return .exitStatus
        case .signaled: return .signal
        }
    }

    /// Stops listening, tells every child to finish its request and exit, and kills those still busy
    /// at the deadline. Returns 0 when every child finished in time as told, 1 when one had to be
    /// killed or ended otherwise (a service manager then reports the stop as failed).
    private func drain() -> Int32 {
        listening.stopListening()
        for pid in children.keys { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + settings.shutdownTimeout
        while !children.isEmpty && ContinuousClock.now < deadline {
            reap()
            if children.isEmpty { break }
            usleep(20_000)
        }
        if !children.isEmpty {
            logger.warning("killing children still busy at the shutdown deadline", metadata: ["count": .stringConvertible(children.count)])
            drainFailures += children.count
            for pid in children.keys { kill(pid, SIGKILL) }
            while !children.isEmpty, let (pid, _) = reapOne(blocking: true) {
                if let slot = children.removeValue(forKey: pid)?.slot { record.release(slot) }
            }
        }
        if drainFailures == 0 {
            logger.info("stopped")
            return 0
        }
        logger.warning("stopped; not every child finished as told", metadata: ["children": .stringConvertible(drainFailures)])
        return 1
    }
}
