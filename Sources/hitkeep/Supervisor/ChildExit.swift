import CSupport
import Scoreboard

#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended, from waitpid's status as libc's WIFEXITED, WEXITSTATUS, WIFSIGNALED
/// and WTERMSIG decode it (they are macros, so CSupport calls them for Swift).
enum ChildExit: Equatable, CustomStringConvertible {
    case exited(status: Int32)
    case signaled(Int32)

    init(waitStatus: Int32) {
        if hk_status_exited(waitStatus) != 0 {
            self = .exited(status: hk_status_exit_code(waitStatus))
        } else if hk_status_signaled(waitStatus) != 0 {
            self = .signaled(hk_status_signal(waitStatus))
        } else {
            // waitpid without WUNTRACED or WCONTINUED reports only these two; kept total regardless.
            self = .exited(status: -1)
        }
    }

    var isSuccess: Bool { self == .exited(status: 0) }

    /// The exit status or the signal number.
    var detail: Int32 {
        switch self {
        case .exited(let status): status
        case .signaled(let signal): signal
        }
    }

    var description: String {
        switch self {
        case .exited(let status): "exit status \(status)"
        case .signaled(let signal): "signal \(signal)" + (SignalName.of(signal).map { " (\($0))" } ?? "")
        }
    }
}
