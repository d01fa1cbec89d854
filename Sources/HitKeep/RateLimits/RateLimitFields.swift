import HTTPTypes
import RawStructuredFieldValues

/// The `RateLimit-Policy` and `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers (-08 and
/// later): Structured Field Lists of one item each, named after the policy, with the quota `q` and
/// window `w` (seconds) of the policy, and what remains `r` and the seconds until the window resets
/// `t`. Written by the Structured Fields serializer, so that quoting and number ranges are right.
enum RateLimitFields {
    static let policyName = "api-client"
    static let windowSeconds = 60
    static let policyField = HTTPField.Name("RateLimit-Policy")!
    static let stateField = HTTPField.Name("RateLimit")!

    /// `"api-client";q=600;w=60`
    static func policy(limit: Int) -> HTTPField {
        HTTPField(name: policyField, value: serialize(["q": limit, "w": windowSeconds]))
    }

    /// `"api-client";r=42;t=17`
    static func state(remaining: Int, resetSeconds: Int) -> HTTPField {
        HTTPField(name: stateField, value: serialize(["r": max(remaining, 0), "t": resetSeconds]))
    }

    private static func serialize(_ parameters: KeyValuePairs<String, Int>) -> String {
        var map = OrderedMap<String, BareItem>()
        for (key, value) in parameters { map[key] = .integer(value) }
        var serializer = StructuredFieldValueSerializer()
        // Only fails for out-of-range integers (beyond 15 digits), which no limit reaches.
        let bytes = (try? serializer.writeListFieldValue([.item(Item(bareItem: .string(policyName), parameters: map))])) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }
}
