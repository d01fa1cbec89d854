import Crypto
import Foundation

/// The opaque `cursor` of a breakdown page (docs/API.md §10.5): where the previous page ended, the
/// range it was counted over, and a fingerprint of the question it belongs to, in base64url.
///
/// Bytes: version (1), fingerprint (16), `from` and `to` (8 each, the bits of their seconds since
/// the epoch, so that the next page reads exactly the same range), the last row's sort key (8),
/// its value in UTF-8, and a CRC-32 of everything before (4). Integers are big-endian.
///
/// The range travels in the cursor because a question may leave it to a default that moves on
/// (`to`: the end of the current hour): every page of one listing counts the same period. The
/// fingerprint is a digest of the question as asked (site, dimension, range parameters, time zone,
/// filters, order), so a cursor is refused for any other question, on this site or another; the
/// checksum refuses one that was cut short or altered. Neither is a secret: a cursor says nothing
/// that the request holding it does not.
struct BreakdownCursor: Sendable, Equatable {
    static let version: UInt8 = 1
    static let fingerprintLength = 16
    private static let fixedLength = 1 + fingerprintLength + 3 * 8 + 4

    var fingerprint: [UInt8]
    var range: StatsRange
    var position: BreakdownPosition

    init(fingerprint: [UInt8], range: StatsRange, position: BreakdownPosition) {
        self.fingerprint = fingerprint
        self.range = range
        self.position = position
    }

    /// The cursor `text`, if it is one of ours for the question `fingerprint`.
    init(decoding text: String, expecting fingerprint: [UInt8]) throws(DomainError) {
        guard let bytes = Self.base64URLDecoded(text), bytes.count >= Self.fixedLength else {
            throw Self.invalid("is not a cursor this server gave out")
        }
        let body = bytes.dropLast(4)
        guard Self.integer(bytes.suffix(4)) == UInt64(CRC32.checksum(body)), bytes[0] == Self.version else {
            throw Self.invalid("is damaged: it must be passed on exactly as next_cursor gave it")
        }
        guard Array(bytes[1...Self.fingerprintLength]) == fingerprint else {
            throw Self.invalid("belongs to another question: a cursor continues only the site, dimension, range, time zone, filters and order it came with")
        }
        var offset = 1 + Self.fingerprintLength
        func next() -> UInt64 {
            defer { offset += 8 }
            return Self.integer(bytes[offset..<offset + 8])
        }
        let from = Date(timeIntervalSince1970: Double(bitPattern: next()))
        let to = Date(timeIntervalSince1970: Double(bitPattern: next()))
        let key = Int(Int64(bitPattern: next()))
        // What a range and a stored value can be: 1970 to 9999, no control characters.
        guard let value = String(validating: bytes[offset..<body.endIndex], as: UTF8.self),
              !TextValidation.containsControlCharacters(value), from.timeIntervalSince1970 >= 0, from < to,
              to.timeIntervalSince1970 < 253_402_300_800, to.timeIntervalSince(from) <= StatsRange.maximumSeconds,
              key >= 0 else {
            throw Self.invalid("is damaged: it must be passed on exactly as next_cursor gave it")
        }
        self.init(fingerprint: fingerprint, range: StatsRange(from: from, to: to), position: BreakdownPosition(key: key, value: value))
    }

    var encoded: String {
        var bytes: [UInt8] = [Self.version]
        bytes.reserveCapacity(Self.fixedLength + position.value.utf8.count)
        bytes += fingerprint
        for number in [range.from.timeIntervalSince1970.bitPattern, range.to.timeIntervalSince1970.bitPattern,
                       UInt64(bitPattern: Int64(position.key))] {
            Self.append(number, bytes: 8, to: &bytes)
        }
        bytes += position.value.utf8
        Self.append(UInt64(CRC32.checksum(bytes)), bytes: 4, to: &bytes)
        return Self.base64URL(bytes)
    }

    /// The digest of a question as asked: what a cursor must have been given out for.
    static func fingerprint(siteID: String, request: BreakdownRequest, timezone: String) -> [UInt8] {
        func bound(_ bound: StatsRequest.Bound?) -> String {
            switch bound {
            case nil: "default"
            case .date(let text)?: "date " + text
            case .instant(let date)?: "instant " + String(date.timeIntervalSince1970.bitPattern)
            }
        }
        // Filters are combined with AND: their order changes nothing.
        let filters = request.stats.filters.map { $0.dimension.name + ":" + $0.value }.sorted()
        let parts = ["hitkeep breakdown 1", siteID, request.dimension.name, bound(request.stats.from), bound(request.stats.to),
                     timezone, request.orderBy.rawValue, request.order.rawValue] + filters
        // NUL separates the parts: none of them can hold one (filters refuse control characters).
        let digest = SHA256.hash(data: Data(parts.joined(separator: "\0").utf8))
        return Array(digest.prefix(fingerprintLength))
    }

    private static func invalid(_ why: String) -> DomainError {
        .invalid("invalid_cursor", "cursor \(why)")
    }

    private static func append(_ number: UInt64, bytes count: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: 8 * (count - 1), through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: number >> UInt64(shift)))
        }
    }

    private static func integer(_ bytes: some Collection<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Unpadded base64url.
    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The bytes of unpadded base64url text, if it is exactly what `base64URL` writes for them: a
    /// character changed in the unused low bits of the last one is a changed cursor too.
    private static func base64URLDecoded(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }), text.utf8.count % 4 != 1 else { return nil }
        let base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            + String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        let bytes = [UInt8](data)
        return base64URL(bytes) == text ? bytes : nil
    }
}
