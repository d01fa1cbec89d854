import Foundation
import TextFormats

/// A Swift value that can be sent as a statement parameter, in PostgreSQL's text format.
public protocol PostgresEncodable: Sendable {
    var postgresText: String { get }

    /// Appends `postgresText`'s UTF-8, as a query collects its parameters; a type that can write
    /// its text straight into the bytes does so instead of making a string first.
    func appendPostgresText(to bytes: inout [UInt8])
}

extension PostgresEncodable {
    public func appendPostgresText(to bytes: inout [UInt8]) {
        bytes.appendUTF8(postgresText)
    }
}

extension String: PostgresEncodable {
    public var postgresText: String { self }

    public func appendPostgresText(to bytes: inout [UInt8]) {
        // Most of a page view's text columns are empty.
        if !isEmpty { bytes.appendUTF8(self) }
    }
}

extension Substring: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Int: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Int64: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Int32: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Double: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Bool: PostgresEncodable {
    public var postgresText: String { self ? "t" : "f" }
}

extension Date: PostgresEncodable {
    /// Seconds since the epoch with microseconds, as PostgreSQL reads a `timestamptz` literal.
    public var postgresText: String {
        PostgresTimestamp.format(self)
    }

    public func appendPostgresText(to bytes: inout [UInt8]) {
        PostgresTimestamp.append(self, to: &bytes)
    }
}

/// `bytea` in hex form.
public struct PostgresBytes: PostgresEncodable, Sendable, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: some Sequence<UInt8>) { self.bytes = Array(bytes) }

    /// Takes the array as it is; the generic initializer copies it element by element.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// `\x` and two lowercase hex digits a byte, written straight into the string's storage: every
    /// session and token lookup sends one.
    public var postgresText: String {
        bytes.withUnsafeBytes { HexDigits.string($0, prefix: "\\x") }
    }
}

/// A one-dimensional array literal (`text[]`, `int[]` …), elements quoted and escaped.
extension Array: PostgresEncodable where Element: PostgresEncodable {
    public var postgresText: String {
        var literal = "{"
        for (index, element) in enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in element.postgresText.unicodeScalars {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        literal += "}"
        return literal
    }
}
