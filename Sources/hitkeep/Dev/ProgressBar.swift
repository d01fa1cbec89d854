import Foundation

/// A one-line progress bar on standard error, redrawn at most a few times a second.
struct ProgressBar {
    let total: Int
    let unit: String
    private let started = Date()
    private var lastDrawn = Date.distantPast

    init(total: Int, unit: String) {
        self.total = total
        self.unit = unit
    }

    mutating func update(_ done: Int, force: Bool = false) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDrawn) >= 0.2 else { return }
        lastDrawn = now
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let width = 30
        let filled = Int(fraction * Double(width))
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r[%@] %3.0f%% %@/%@ %@  %@/s  %@ left ", bar, fraction * 100,
                          Self.grouped(done), Self.grouped(total), unit, Self.grouped(Int(rate)), Self.duration(remaining))
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        let elapsed = Date().timeIntervalSince(started)
        FileHandle.standardError.write(Data("\n".utf8))
        FileHandle.standardError.write(Data("\(Self.grouped(total)) \(unit) in \(Self.duration(elapsed))\n".utf8))
    }

    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 60 ? "\(total / 60)m\(String(format: "%02d", total % 60))s" : "\(total)s"
    }
}
