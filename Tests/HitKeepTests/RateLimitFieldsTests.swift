import RawStructuredFieldValues
import Testing
@testable import HitKeep

@Suite struct RateLimitFieldsTests {
    /// The field as the Structured Fields parser reads it back: the item's name and parameters.
    private func parsed(_ value: String) throws -> (name: String, parameters: [String: Int64]) {
        var parser = StructuredFieldValueParser(Array(value.utf8))
        let list = try parser.parseListFieldValue()
        guard list.count == 1, case .item(let item) = list[0], case .string(let name) = item.rfc9651BareItem else {
            Issue.record("not one string item: \(value)")
            return ("", [:])
        }
        var parameters: [String: Int64] = [:]
        for (key, bare) in item.rfc9651Parameters {
            if case .integer(let number) = bare { parameters[key] = number }
        }
        return (name, parameters)
    }

    @Test func writesThePolicy() throws {
        var fields = RateLimitFields()
        #expect(fields.policy(limit: 600).value == #""api-client";q=600;w=60"#)
        #expect(try parsed(fields.policy(limit: 1_000_000_000).value).parameters == ["q": 1_000_000_000, "w": 60])
    }

    /// Every count of digits, in and out of order, comes out as the serializer would write it.
    @Test func writesWhatRemainsAndWhenItResets() throws {
        var fields = RateLimitFields()
        let samples = [(0, 60), (9, 1), (10, 59), (99, 9), (100, 10), (57, 9), (1_000_000_000, 1), (999_999_999, 60), (42, 17)]
        for (remaining, reset) in samples {
            let value = fields.state(remaining: remaining, resetSeconds: reset).value
            #expect(value == "\"api-client\";r=\(remaining);t=\(reset)")
            let read = try parsed(value)
            #expect(read.name == "api-client")
            #expect(read.parameters == ["r": Int64(remaining), "t": Int64(reset)])
        }
        #expect(fields.state(remaining: -5, resetSeconds: 3).value == #""api-client";r=0;t=3"#)
    }
}
