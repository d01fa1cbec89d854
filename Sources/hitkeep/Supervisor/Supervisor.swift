import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Keeps a fixed pool of worker processes on one listening socket, in the manner of php-fpm's
/// static process manager, and one roll-up process beside them: replaces a child that dies
/// (backing off when one keeps dying at start), replaces a worker that retires after its request
/// limit, restarts them all on SIGHUP without closing the socket, and drains them on SIGTERM or
/// SIGINT.
///
/// Signals are blocked and taken synchronously with sigtimedwait, so that no work happens in a
/// signal handler.
final class Supervisor {
    struct Settings {
        var workers: Int
        var shutdownTimeout: Duration
    }

    private struct ChildProcess {
        let child: ChildSpawner.Child
        let pid: pid_t
        let started: ContinuousClock.Instant
        var retiring = false
    }

    private let spawner: ChildSpawner
    private let listening: ListeningSocket
    private let settings: Settings
    private let logger: Logger
    private var children: [pid_t: ChildProcess] = [:]
    /// Deaths in a row of children that did not live long; sets the restart delay.
    private var rapidFailures = 0
    private var nextSpawnAllowed = ContinuousClock.now
    private var shuttingDown = false
    /// Children that, while draining, had to be killed at the deadline or ended otherwise than told.
    private var drainFailures = 0

    init(spawner: ChildSpawner, listening: ListeningSocket, settings: Settings, logger: Logger) {
        self.spawner = spawner
        self.listening = listening
        self.settings = settings
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
            case SIGHUP:
                restartAll()
            default:
                break
            }
            reap()
            if !shuttingDown { fillPool() }
        }
        return drain()
    }

    private func activeCount(_ child: ChildSpawner.Child) -> Int {
        children.values.filter { $0.child == child && !$0.retiring }.count
    }

    private func fillPool() {
        guard ContinuousClock.now >= nextSpawnAllowed else { return }
        for (child, wanted) in [(ChildSpawner.Child.worker, settings.workers), (.rollUp, 1)] {
            while activeCount(child) < wanted {
                do {
                    let pid = try spawner.spawn(child)
                    children[pid] = ChildProcess(child: child, pid: pid, started: .now)
                } catch {
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
        for pid in old { children[pid]?.retiring = true }
        nextSpawnAllowed = .now
        fillPool()
        for pid in old { kill(pid, SIGTERM) }
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
        if shuttingDown {
            // Told to stop: a worker exits 0 once its request is done; the roll-up, which folds in
            // single transactions, dies of the SIGTERM itself. Anything else is worth the exit status.
            let expected = exit.isSuccess || (process.child == .rollUp && exit == .signaled(SIGTERM))
            if !expected {
                drainFailures += 1
                logger.warning("\(process.child.rawValue) ended badly while draining", metadata: [
                    "child": .stringConvertible(process.pid), "how": .string(exit.description)])
            }
            return
        }
        if process.retiring { return }
        if exit.isSuccess {
            // Retired after its request limit: replace it at once.
            return
        }
        let lived = ContinuousClock.now - process.started
        logger.warning("\(process.child.rawValue) died", metadata: ["child": .stringConvertible(process.pid), "how": .string(exit.description)])
        if lived < .seconds(2) {
            rapidFailures += 1
            let delay = min(Duration.milliseconds(100) * (1 << min(rapidFailures, 6)), .seconds(5))
            nextSpawnAllowed = .now + delay
        } else {
            rapidFailures = 0
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
                children.removeValue(forKey: pid)
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
