import Testing
import TextFormats

@Suite struct CSVTests {
    private func record(_ fields: [String]) -> String {
        var bytes: [UInt8] = []
        bytes.appendCSVRecord(fields)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func plainFieldsAreWrittenAsTheyAreWithCRLF() {
        #expect(record(["name", "pageviews"]) == "name,pageviews\r\n")
        #expect(record(["/pricing", "12", "41.23"]) == "/pricing,12,41.23\r\n")
        #expect(record(["(none)", "", "0"]) == "(none),,0\r\n")
        #expect(record([]) == "\r\n")
    }

    @Test func fieldsWithCommaQuoteCROrLFAreQuotedWithQuotesDoubled() {
        #expect(record(["/a,b"]) == "\"/a,b\"\r\n")
        #expect(record(["/say \"hi\""]) == "\"/say \"\"hi\"\"\"\r\n")
        #expect(record(["a\rb", "c\nd"]) == "\"a\rb\",\"c\nd\"\r\n")
        #expect(record(["\""]) == "\"\"\"\"\r\n")
    }

    @Test func otherCharactersNeedNoQuotes() {
        #expect(record(["a b", "ä;é", "tab\there", "'single'"]) == "a b,ä;é,tab\there,'single'\r\n")
    }
}
