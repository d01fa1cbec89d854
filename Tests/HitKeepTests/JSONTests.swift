import Testing
@testable import HitKeep

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSON {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func parsesNestedValuesInOrder() throws {
        let value = try parse(#" {"b": [1, 2.5, -3e2, true, null], "a": {"x": "y"}} "#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["b", "a"])
        #expect(String(decoding: value.encoded(), as: UTF8.self) == #"{"b":[1,2.5,-300,true,null],"a":{"x":"y"}}"#)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try parse(#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#)
        guard case .string(let text) = value else { Issue.record("not a string"); return }
        #expect(text == "a\"b\\c/d\né😀")
    }

    @Test(arguments: [
        "", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\x\"", "\"\\ud800\"",
        "{\"a\":1}{", "{\"a\":1,\"a\":2}", "\"tab\tinside\"", "NaN", "1e999",
    ])
    func rejectsMalformedDocuments(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try parse(text) }
    }

    @Test func findsDuplicateNamesAmongManyMembers() throws {
        let names = (0..<7_000).map { "\"k\($0)\":1" }
        guard case .object(let members) = try parse("{" + names.joined(separator: ",") + "}") else {
            Issue.record("not an object"); return
        }
        #expect(members.count == 7_000)
        for duplicate in [0, 7, 8, 6_999] {
            let text = "{" + (names + ["\"k\(duplicate)\":2"]).joined(separator: ",") + "}"
            #expect(throws: JSONParser.Failure.self) { try parse(text) }
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func boundsNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParser.Failure.self) { try parse(deep) }
    }

    @Test func writerEscapesControlCharactersAndQuotes() {
        let value = JSON.string("a\"\\\u{01}\n\u{1F}")
        #expect(String(decoding: value.encoded(), as: UTF8.self) == #""a\"\\\u0001\n\u001f""#)
    }

    @Test func writerPrintsWholeNumbersWithoutFraction() {
        #expect(JSON.format(42) == "42")
        #expect(JSON.format(41.25) == "41.25")
        #expect(JSON.format(.infinity) == "null")
    }
}

@Suite struct JSONRequestBodyTests {
    private func body(_ text: String, allowed: Set<String>) throws -> JSONRequestBody {
        try JSONRequestBody(Request(method: .post, path: "/", body: Array(text.utf8)), allowed: allowed)
    }

    @Test func namesTheUnknownField() {
        #expect(throws: HTTPProblem.self) { try body(#"{"name":"a","nmae":"b"}"#, allowed: ["name"]) }
        do {
            _ = try body(#"{"nmae":"b"}"#, allowed: ["name"])
        } catch let error as HTTPProblem {
            #expect(error.code == "invalid_json")
            #expect(error.detail.contains("nmae"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func namesTheFieldOfAWrongType() throws {
        let reader = try body(#"{"name":12}"#, allowed: ["name"])
        do {
            _ = try reader.string("name")
            Issue.record("a number was read as a string")
        } catch {
            #expect(error.code == "invalid_json")
            #expect(error.detail.contains("name"))
        }
    }

    @Test func refusesNonObjects() {
        #expect(throws: HTTPProblem.self) { try body("[]", allowed: []) }
        #expect(throws: HTTPProblem.self) { try body("\"x\"", allowed: []) }
    }

    @Test func tellsAbsentFromNull() throws {
        let reader = try body(#"{"expires_at":null}"#, allowed: ["expires_at", "name"])
        #expect(reader.contains("expires_at"))
        #expect(reader.isNull("expires_at"))
        #expect(!reader.contains("name"))
    }

    @Test func readsWholeNumbersOnly() throws {
        let reader = try body(#"{"a":3,"b":3.5}"#, allowed: ["a", "b"])
        #expect(try reader.integer("a") == 3)
        #expect(throws: HTTPProblem.self) { try reader.integer("b") }
    }
}
