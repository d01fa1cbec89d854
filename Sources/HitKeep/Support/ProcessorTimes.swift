import Foundation

/// The host's CPU time so far, all processors together, as the first line of `/proc/stat` counts it
/// (in clock ticks): how much of it was idle between two readings tells whether background work
/// may take more than its share.
struct ProcessorTimes: Equatable {
    /// Ticks idle or waiting for the disk.
    var idle: UInt64
    /// Ticks of every kind.
    var total: UInt64

    /// The current times, or nil where there is no `/proc/stat` (not Linux) or it reads oddly.
    static func current() -> ProcessorTimes? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n", maxSplits: 1).first else { return nil }
        return ProcessorTimes(statLine: line)
    }

    /// Reads `cpu  user nice system idle iowait irq softirq steal guest guest_nice`. Guest time is
    /// already inside user and nice time, so it is not added again.
    init?(statLine line: Substring) {
        let fields = line.split(separator: " ")
        guard fields.first == "cpu", fields.count >= 5 else { return nil }
        let ticks = fields.dropFirst().prefix(8).compactMap { UInt64($0) }
        guard ticks.count == min(fields.count - 1, 8) else { return nil }
        idle = ticks[3] + (ticks.count > 4 ? ticks[4] : 0)
        total = ticks.reduce(0, +)
    }

    init(idle: UInt64, total: UInt64) {
        self.idle = idle
        self.total = total
    }

    /// The share of the CPU time since `earlier` that was idle: 0 when no tick passed.
    func idleShare(since earlier: ProcessorTimes) -> Double {
        guard total > earlier.total, idle >= earlier.idle else { return 0 }
        return Double(idle - earlier.idle) / Double(total - earlier.total)
    }
}
