import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Writes each event as one line to stderr with a single write(2): UTC time, level, label,
/// message, then metadata as sorted `key=value` pairs. One write keeps the lines of concurrent
/// worker processes from interleaving. The handler's own metadata (the pid) is rendered once, when
/// it is set, because a worker logs a line for every request.
struct LineLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private var renderedMetadata = ""

    var metadata: Logger.Metadata = [:] {
        didSet { renderedMetadata = Self.render(metadata) }
    }

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = [UInt8]()
        line.reserveCapacity(160)
        Self.appendTimestamp(to: &line)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: label.utf8)
        line.append(contentsOf: ": ".utf8)
        line.append(contentsOf: event.message.description.utf8)
        if let extra = event.metadata, !extra.isEmpty {
            line.append(contentsOf: Self.render(metadata.merging(extra) { $1 }).utf8)
        } else {
            line.append(contentsOf: renderedMetadata.utf8)
        }
        line.append(UInt8(ascii: "\n"))
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static func render(_ metadata: Logger.Metadata) -> String {
        metadata.keys.sorted().map { " \($0)=\(metadata[$0]!)" }.joined()
    }

    /// `2026-11-26T15:04:05Z`
    private static func appendTimestamp(to line: inout [UInt8]) {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                line.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4); line.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2); line.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2); line.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2); line.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2); line.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2); line.append(UInt8(ascii: "Z"))
    }
}
