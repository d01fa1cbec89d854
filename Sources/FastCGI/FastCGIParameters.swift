#if canImport(Glibc)
import Glibc
#endif

/// The parameters of one request, copied out of libfcgi into one buffer as soon as it is accepted
/// (libfcgi reuses their storage at the next accept). Names may repeat: nginx passes one
/// `HTTP_COOKIE` per `Cookie` header line. Values become Swift strings only when asked for, since
/// a handler needs a handful of the forty or so parameters the web server sends.
public struct FastCGIParameters: Sendable {
    private struct Entry: Sendable {
        var nameStart: Int32
        var valueStart: Int32
        var valueEnd: Int32
    }

    private var bytes: [UInt8] = []
    private var entries: [Entry] = []

    public init() {}

    public init(_ pairs: [(name: String, value: String)]) {
        for (name, value) in pairs { append(name: Array(name.utf8), value: Array(value.utf8)) }
    }

    /// Copies a `NAME=value` environment block (libfcgi's `envp`). Where each pair will lie is
    /// worked out first, so that the bytes go into one buffer of the right size with a plain copy
    /// each, rather than through forty appends that each check for room.
    init(environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard let environment else { return }
        var total = 0
        var count = 0
        entries.reserveCapacity(48)
        while let pair = environment[count] {
            let length = strlen(pair)
            // A pair without `=` is copied with the rest but has no entry, so it is never seen.
            if let separator = memchr(pair, Int32(UInt8(ascii: "=")), length) {
                let nameLength = UnsafeRawPointer(pair).distance(to: UnsafeRawPointer(separator))
                entries.append(Entry(nameStart: Int32(total), valueStart: Int32(total + nameLength + 1),
                                     valueEnd: Int32(total + length)))
            }
            total += length
            count += 1
        }
        bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, written in
            guard let base = buffer.baseAddress, total > 0 else { return }
            for index in 0..<count {
                let pair = environment[index]!
                let length = strlen(pair)
                memcpy(base + written, pair, length)
                written += length
            }
        }
    }

    private mutating func append(name: [UInt8], value: [UInt8]) {
        let start = Int32(bytes.count)
        bytes.append(contentsOf: name)
        bytes.append(UInt8(ascii: "="))
        let valueStart = Int32(bytes.count)
        bytes.append(contentsOf: value)
        entries.append(Entry(nameStart: start, valueStart: valueStart, valueEnd: Int32(bytes.count)))
    }

    public var count: Int { entries.count }

    /// The value of the first parameter with this name.
    public subscript(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { wanted in
            bytes.withUnsafeBufferPointer { buffer in
                let first = wanted.first
                for entry in entries where Int(entry.valueStart - 1 - entry.nameStart) == wanted.count {
                    // The first byte rules out most names of the same length without a call.
                    if let first, buffer[Int(entry.nameStart)] != first { continue }
                    if memcmp(buffer.baseAddress! + Int(entry.nameStart), wanted.baseAddress!, wanted.count) == 0 {
                        return String(decoding: UnsafeBufferPointer(rebasing: buffer[Int(entry.valueStart)..<Int(entry.valueEnd)]),
                                      as: UTF8.self)
                    }
                }
                return nil
            }
        }
    }

    /// Every parameter, in the order the web server sent them.
    public var all: [(name: String, value: String)] {
        entries.map { (String(decoding: bytes[Int($0.nameStart)..<Int($0.valueStart - 1)], as: UTF8.self), value(of: $0)) }
    }

    /// Calls `body` with the value of every `HTTP_*` parameter that carries the request header
    /// `name`, given in lowercase, in the order the web server sent them: `X-Api-Key` arrives as
    /// `HTTP_X_API_KEY` and is asked for as `x-api-key`. Names are compared byte by byte as they
    /// would convert, so nothing is built for the parameters that do not match.
    public func forEachHeader(named name: String, _ body: (String) -> Void) {
        var name = name
        name.withUTF8 { wanted in
            bytes.withUnsafeBufferPointer { buffer in
                for entry in entries where Int(entry.valueStart - 1 - entry.nameStart) == wanted.count + 5 {
                    let start = Int(entry.nameStart)
                    guard buffer[start] == UInt8(ascii: "H"), buffer[start + 1] == UInt8(ascii: "T"),
                          buffer[start + 2] == UInt8(ascii: "T"), buffer[start + 3] == UInt8(ascii: "P"),
                          buffer[start + 4] == UInt8(ascii: "_") else { continue }
                    var offset = 0
                    while offset < wanted.count && Self.headerNameByte(buffer[start + 5 + offset]) == wanted[offset] {
                        offset += 1
                    }
                    guard offset == wanted.count else { continue }
                    let value = UnsafeBufferPointer(rebasing: buffer[Int(entry.valueStart)..<Int(entry.valueEnd)])
                    body(String(decoding: value, as: UTF8.self))
                }
            }
        }
    }

    /// A byte of a CGI header parameter's name as it reads in the header's name: `_` is `-`, and
    /// letters are lowercase.
    @inline(__always)
    private static func headerNameByte(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "_"): UInt8(ascii: "-")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte + 32
        default: byte
        }
    }

    private func value(of entry: Entry) -> String {
        String(decoding: bytes[Int(entry.valueStart)..<Int(entry.valueEnd)], as: UTF8.self)
    }
}
