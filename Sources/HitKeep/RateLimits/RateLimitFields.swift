import HTTPTypes
import RawStructuredFieldValues

/// The `RateLimit-Policy` and `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers (-08 and
/// later): Structured Field Lists of one item each, named after the policy, with the quota `q` and
/// window `w` (seconds) of the policy, and what remains `r` and the seconds until the window resets
/// `t`. Written by the Structured Fields serializer, so that quoting and number ranges are right.
///
/// `RateLimit` is written for every bearer request, and the serializer takes about 2 µs for it
/// (validating the name and keys and building the item), a few per cent of the whole bearer path.
/// So it writes one field per number of digits of `r` and of `t` and keeps it as a template, and a
/// request only puts its own digits in place: a Structured Field Integer is its decimal digits
/// (RFC 8941 §4.1.4), so a template with the same count of digits stays a valid field, and what
/// surrounds the numbers is always the serializer's.
struct RateLimitFields {
    static let policyName = "api-client"
    static let windowSeconds = 60
    static let policyField = HTTPField.Name("RateLimit-Policy")!
    static let stateField = HTTPField.Name("RateLimit")!

    private var serializer = StructuredFieldValueSerializer()
    private var policy = Self.item(["q": 0, "w": Int64(windowSeconds)])
    private var state = Self.item(["r": 0, "t": 0])
    /// By digits of `r` and `t`: the serialized field and where each number's digits start.
    private var templates: [Int: (bytes: [UInt8], remaining: Int, reset: Int)] = [:]

    /// `"api-client";q=600;w=60`
    mutating func policy(limit: Int) -> HTTPField {
        policy.rfc9651Parameters["q"] = .integer(Int64(limit))
        return HTTPField(name: Self.policyField, value: write(policy))
    }

    /// `"api-client";r=42;t=17`
    mutating func state(remaining: Int, resetSeconds: Int) -> HTTPField {
        let remaining = max(remaining, 0)
        let reset = max(resetSeconds, 0)
        let shape = Self.digitCount(remaining) * 100 + Self.digitCount(reset)
        let template = templates[shape] ?? makeTemplate(shape, remaining: remaining, reset: reset)
        var bytes = template.bytes
        Self.putDigits(of: remaining, into: &bytes, at: template.remaining)
        Self.putDigits(of: reset, into: &bytes, at: template.reset)
        return HTTPField(name: Self.stateField, value: String(decoding: bytes, as: UTF8.self))
    }

    private mutating func makeTemplate(_ shape: Int, remaining: Int, reset: Int) -> (bytes: [UInt8], remaining: Int, reset: Int) {
        state.rfc9651Parameters["r"] = .integer(Int64(remaining))
        state.rfc9651Parameters["t"] = .integer(Int64(reset))
        let bytes = Array(write(state).utf8)
        // The policy's name has no semicolon, so the first ";r=" and ";t=" are the parameters'.
        let template = (bytes: bytes, remaining: Self.end(of: Array(";r=".utf8), in: bytes),
                        reset: Self.end(of: Array(";t=".utf8), in: bytes))
        templates[shape] = template
        return template
    }

    private static func end(of needle: [UInt8], in bytes: [UInt8]) -> Int {
        let start = bytes.indices.first { bytes[$0...].starts(with: needle) } ?? bytes.count
        return start + needle.count
    }

    private static func digitCount(_ value: Int) -> Int {
        var count = 1
        var rest = value / 10
        while rest > 0 { count += 1; rest /= 10 }
        return count
    }

    private static func putDigits(of value: Int, into bytes: inout [UInt8], at start: Int) {
        var rest = value
        var position = start + digitCount(value) - 1
        repeat {
            bytes[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            position -= 1
        } while rest > 0
    }

    private mutating func write(_ item: Item) -> String {
        // Only fails for integers beyond 15 digits, which no limit reaches.
        let bytes = (try? serializer.writeListFieldValue([.item(item)])) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func item(_ parameters: KeyValuePairs<String, Int64>) -> Item {
        var map = OrderedMap<String, RFC9651BareItem>()
        for (key, value) in parameters { map[key] = .integer(value) }
        return Item(bareItem: RFC9651BareItem.string(policyName), parameters: map)
    }
}
