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
        Self.append(label, to: &line)
        line.append(UInt8(ascii: ":"))
        line.append(UInt8(ascii: " "))
        Self.append(event.message.description, to: &line)
        if let extra = event.metadata, !extra.isEmpty {
            Self.append(Self.render(metadata.merging(extra) { $1 }), to: &line)
        } else {
            Self.append(renderedMetadata, to: &line)
        }
        line.append(UInt8(ascii: "\n"))
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static func render(_ metadata: Logger.Metadata) -> String {
        metadata.keys.sorted().map { " \($0)=\(metadata[$0]!)" }.joined()
    }

    /// Copies the string's UTF-8 in one go: a worker writes a line per request.
    private static func append(_ text: String, to line: inout [UInt8]) {
        var text = text
        text.withUTF8 { line.append(contentsOf: $0) }
    }

    /// `2026-11-26T15:04:05Z`, written into its place in one step.
    private static func appendTimestamp(to line: inout [UInt8]) {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        let start = line.count
        ("0000-00-00T00:00:00Z" as StaticString).withUTF8Buffer { line.append(contentsOf: $0) }
        line.withUnsafeMutableBufferPointer { buffer in
            func digits(_ value: Int32, width: Int, at offset: Int) {
                var remaining = value
                for position in stride(from: start + offset + width - 1, through: start + offset, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                }
            }
            digits(parts.tm_year + 1900, width: 4, at: 0)
            digits(parts.tm_mon + 1, width: 2, at: 5)
            digits(parts.tm_mday, width: 2, at: 8)
            digits(parts.tm_hour, width: 2, at: 11)
            digits(parts.tm_min, width: 2, at: 14)
            digits(parts.tm_sec, width: 2, at: 17)
        }
    }
}
