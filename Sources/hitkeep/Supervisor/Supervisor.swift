import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Keeps a fixed pool of worker processes on one listening socket, in the manner of php-fpm's
/// static process manager: replaces a worker that dies (backing off when one keeps dying at start),
/// replaces one that retires after its request limit, restarts them all on SIGHUP without closing
/// the socket, and drains them on SIGTERM or SIGINT.
///
/// Signals are blocked and taken synchronously with sigtimedwait, so that no work happens in a
/// signal handler.
final class Supervisor {
    struct Settings {
        var workers: Int
        var shutdownTimeout: Duration
    }

    private struct WorkerProcess {
        let pid: pid_t
        let started: ContinuousClock.Instant
        var retiring = false
    }

    private let spawner: WorkerSpawner
    private let listening: ListeningSocket
    private let settings: Settings
    private let logger: Logger
    private var workers: [pid_t: WorkerProcess] = [:]
    /// Deaths in a row of workers that did not live long; sets the restart delay.
    private var rapidFailures = 0
    private var nextSpawnAllowed = ContinuousClock.now
    private var shuttingDown = false

    init(spawner: WorkerSpawner, listening: ListeningSocket, settings: Settings, logger: Logger) {
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

    private var activeCount: Int { workers.values.filter { !$0.retiring }.count }

    private func fillPool() {
        guard ContinuousClock.now >= nextSpawnAllowed else { return }
        while activeCount < settings.workers {
            do {
                let pid = try spawner.spawn()
                workers[pid] = WorkerProcess(pid: pid, started: .now)
            } catch {
                logger.error("\(error)")
                nextSpawnAllowed = .now + .seconds(1)
                return
            }
        }
    }

    /// A rolling restart: the new workers start before the old ones are told to finish, and the
    /// socket stays open throughout, so no request is refused.
    private func restartAll() {
        logger.info("restarting workers")
        let old = workers.keys.filter { workers[$0]?.retiring == false }
        for pid in old { workers[pid]?.retiring = true }
        nextSpawnAllowed = .now
        fillPool()
        for pid in old { kill(pid, SIGTERM) }
    }

    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let worker = workers.removeValue(forKey: pid) else { continue }
            let exitedCleanly = (status & 0x7F) == 0 && ((status >> 8) & 0xFF) == 0
            if worker.retiring || shuttingDown { continue }
            if exitedCleanly {
                // Retired after its request limit: replace it at once.
                continue
            }
            let lived = ContinuousClock.now - worker.started
            let how = (status & 0x7F) != 0 ? "signal \(status & 0x7F)" : "status \((status >> 8) & 0xFF)"
            logger.warning("worker died", metadata: ["worker": .stringConvertible(pid), "how": .string(how)])
            if lived < .seconds(2) {
                rapidFailures += 1
                let delay = min(Duration.milliseconds(100) * (1 << min(rapidFailures, 6)), .seconds(5))
                nextSpawnAllowed = .now + delay
            } else {
                rapidFailures = 0
            }
        }
    }

    /// Stops listening, tells every worker to finish its request and exit, and kills those still busy
    /// at the deadline.
    private func drain() -> Int32 {
        listening.stopListening()
        for pid in workers.keys { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + settings.shutdownTimeout
        while !workers.isEmpty && ContinuousClock.now < deadline {
            reap()
            if workers.isEmpty { break }
            usleep(20_000)
        }
        if !workers.isEmpty {
            logger.warning("killing workers still busy at the shutdown deadline", metadata: ["count": .stringConvertible(workers.count)])
            for pid in workers.keys { kill(pid, SIGKILL) }
            while !workers.isEmpty {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, 0)
                if pid <= 0 { break }
                workers.removeValue(forKey: pid)
            }
        }
        logger.info("stopped")
        return 0
    }
}
