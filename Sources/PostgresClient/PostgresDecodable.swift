import Foundation
import TextFormats

/// A Swift value that can be read from a column in PostgreSQL's text format.
public protocol PostgresDecodable {
    init?(postgresText: String)
}

extension String: PostgresDecodable {
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Double: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresDecodable {
    public init?(postgresText: String) {
        switch postgresText {
        case "t": self = true
        case "f": self = false
        default: return nil
        }
    }
}

extension Date: PostgresDecodable {
    public init?(postgresText: String) {
        guard let date = PostgresTimestamp.parse(postgresText) else { return nil }
        self = date
    }
}

extension PostgresBytes: PostgresDecodable {
    /// `bytea` in hex form, `\x` and two digits a byte, read from the string's own storage.
    public init?(postgresText: String) {
        var text = postgresText
        let decoded: [UInt8]? = text.withUTF8 { text in
            guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0 else {
                return nil
            }
            var bytes = [UInt8]()
            bytes.reserveCapacity((text.count - 2) / 2)
            var index = 2
            while index < text.count {
                guard let byte = HexDigits.byte(high: text[index], low: text[index + 1]) else { return nil }
                bytes.append(byte)
                index += 2
            }
            return bytes
        }
        guard let decoded else { return nil }
        self.init(decoded)
    }
}

/// A one-dimensional array of simple elements (`text[]` of identifiers, `int[]`), as PostgreSQL
/// prints it: `{a,b,"c d"}`. Works on bytes: the delimiters are ASCII, and UTF-8 never uses ASCII
/// bytes inside a multi-byte character.
///
/// Inlinable, so that a caller reading `[String]` gets it specialised rather than calling through
/// generic metadata for every element.
extension Array: PostgresDecodable where Element: PostgresDecodable {
    @inlinable
    public init?(postgresText: String) {
        var text = postgresText
        let parsed: [Element]? = text.withUTF8 { bytes in
            guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
            if bytes.count == 2 { return [] }
            let inner = UnsafeBufferPointer(rebasing: bytes[1..<(bytes.count - 1)])
            if !inner.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                return Self.splitUnquoted(inner)
            }
            var elements: [Element] = []
            var current: [UInt8] = []
            var quoted = false
            var wasQuoted = false
            var escaped = false
            func finish() -> Bool {
                let element = String(decoding: current, as: UTF8.self)
                if !wasQuoted && element == "NULL" { return false }
                guard let value = Element(postgresText: element) else { return false }
                elements.append(value)
                current.removeAll(keepingCapacity: true)
                wasQuoted = false
                return true
            }
            for byte in bytes[1..<(bytes.count - 1)] {
                if escaped {
                    current.append(byte)
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    quoted.toggle()
                    wasQuoted = true
                } else if byte == UInt8(ascii: ",") && !quoted {
                    guard finish() else { return nil }
                } else {
                    current.append(byte)
                }
            }
            return finish() ? elements : nil
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The common case, identifiers and numbers: no quotes and no escapes, so the elements are the
    /// text between commas, and each becomes a string straight from the buffer.
    @inlinable
    static func splitUnquoted(_ bytes: UnsafeBufferPointer<UInt8>) -> [Element]? {
        var elements: [Element] = []
        var start = 0
        while true {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
            let element = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            guard element != "NULL", let value = Element(postgresText: element) else { return nil }
            elements.append(value)
            if end == bytes.count { return elements }
            start = end + 1
        }
    }
}
