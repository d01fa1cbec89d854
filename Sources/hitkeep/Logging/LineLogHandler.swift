import Foundation
import Logging
import TextFormats

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
        // `2026-11-26T15:04:05Z`: whole seconds from time(2), cheaper than a Date.
        TimestampWriter.append(secondsSinceEpoch: Int64(time(nil)), format: .rfc3339, to: &line)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(UInt8(ascii: " "))
        line.appendUTF8(label)
        line.append(UInt8(ascii: ":"))
        line.append(UInt8(ascii: " "))
        line.appendUTF8(event.message.description)
        if let extra = event.metadata, !extra.isEmpty {
            line.appendUTF8(Self.render(metadata.merging(extra) { $1 }))
        } else {
            line.appendUTF8(renderedMetadata)
        }
        line.append(UInt8(ascii: "\n"))
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static func render(_ metadata: Logger.Metadata) -> String {
        metadata.keys.sorted().map { " \($0)=\(metadata[$0]!)" }.joined()
    }
}
