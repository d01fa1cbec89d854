import TextFormats

/// A query string's parameters in order, percent-decoded, repeated keys kept.
public struct QueryParameters: Sendable {
    public private(set) var pairs: [(name: String, value: String)]

    public init(pairs: [(name: String, value: String)] = []) {
        self.pairs = pairs
    }

    /// Parses `a=1&b=x%20y&a=2`. `+` is a space, as in HTML forms. A pair whose escapes are not
    /// valid UTF-8 makes the whole string invalid (nil), so that no handler sees mangled input.
    public init?(parsing query: String) {
        var pairs: [(name: String, value: String)] = []
        for part in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let separator = part.firstIndex(of: UInt8(ascii: "="))
            let rawName = separator.map { part[part.startIndex..<$0] } ?? part[...]
            let rawValue = separator.map { part[part.index(after: $0)...] } ?? part[part.endIndex...]
            guard let name = Self.decode(rawName), let value = Self.decode(rawValue) else { return nil }
            pairs.append((name, value))
        }
        self.pairs = pairs
    }

    public subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    public func all(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }

    public var names: [String] { pairs.map(\.name) }

    static func decode(_ encoded: Substring.UTF8View.SubSequence) -> String? {
        decode(Array(encoded))
    }

    static func decode(_ encoded: [UInt8]) -> String? {
        var bytes = [UInt8]()
        bytes.reserveCapacity(encoded.count)
        var index = 0
        while index < encoded.count {
            let byte = encoded[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < encoded.count,
                      let byte = HexDigits.byte(high: encoded[index + 1], low: encoded[index + 2]) else { return nil }
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
