import Foundation
import Scoreboard

#if canImport(Glibc)
import Glibc
#endif

/// Starts the supervisor's children with the signals it blocks restored to their defaults:
/// `hitkeep worker` with the listening socket on fd 0, as spawn-fcgi would, and `hitkeep roll-up`
/// without it; both with the scoreboard at `Scoreboard.inheritedDescriptor`.
struct ChildSpawner {
    /// `posix_spawn` refused to start a child (no memory, too many processes, executable gone).
    struct Failure: Error, CustomStringConvertible {
        let child: String
        let errorNumber: Int32

        var description: String { "cannot start \(child): \(String(cString: strerror(errorNumber)))" }
    }

    let executable: String
    let listeningDescriptor: Int32
    let scoreboardDescriptor: Int32
    let environment: [String]

    init(listeningDescriptor: Int32, scoreboardDescriptor: Int32, environment: [String: String]) {
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &path, path.count - 1)
        executable = length > 0
            ? String(decoding: path.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments[0]
        self.listeningDescriptor = listeningDescriptor
        self.scoreboardDescriptor = scoreboardDescriptor
        self.environment = environment.map { "\($0.key)=\($0.value)" }
    }

    /// - Parameter slot: the worker's scoreboard slot; nil for the roll-up, or when none is free.
    func spawn(_ child: PoolChild, slot: Int?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch child {
        case .worker:
            if listeningDescriptor != 0 {
                posix_spawn_file_actions_adddup2(&actions, listeningDescriptor, 0)
            }
        case .rollUp:
            // A process that never accepts must not hold the socket: after a drain has closed it,
            // connections would still queue on it and wait for nobody.
            if listeningDescriptor != 0 {
                posix_spawn_file_actions_addclose(&actions, listeningDescriptor)
            }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        // After the listening socket has moved to fd 0: under systemd it arrives at fd 3.
        posix_spawn_file_actions_adddup2(&actions, scoreboardDescriptor, Scoreboard.inheritedDescriptor)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var arguments = [executable, child.name]
        switch child {
        case .worker: if let slot { arguments += ["--scoreboard-slot", String(slot)] }
        case .rollUp: arguments += ["--scoreboard"]
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw Failure(child: child.name, errorNumber: result)
        }
        return pid
    }
}
