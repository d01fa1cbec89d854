import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// Accesses to words of the scoreboard (see CSupport's SharedWords.h): plain loads and stores the
/// compiler may not tear or elide, since other processes read them.
extension UnsafeMutablePointer where Pointee == UInt64 {
    @inline(__always) var shared: UInt64 { hk_word_load(self) }
    @inline(__always) func store(_ value: UInt64) { hk_word_store(self, value) }
    @inline(__always) func add(_ amount: UInt64) { hk_word_add(self, amount) }
    @inline(__always) func publish(_ value: UInt64) { hk_word_publish(self, value) }
    @inline(__always) var acquired: UInt64 { hk_word_acquire(self) }
}

/// The clock every process of the pool stamps the scoreboard with: CLOCK_MONOTONIC, which is the
/// same for all processes of the machine, and read through the vDSO without a system call.
public enum MonotonicClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
