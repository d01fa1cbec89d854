import Testing
import TextFormats

@Suite struct DecimalDigitsTests {
    private func decimal(_ value: Int64, minimumDigits: Int = 1) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "<")]
        bytes.appendDecimal(value, minimumDigits: minimumDigits)
        bytes.append(UInt8(ascii: ">"))
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func writesIntegersWithoutPadding() {
        #expect(decimal(0) == "<0>")
        #expect(decimal(7) == "<7>")
        #expect(decimal(10) == "<10>")
        #expect(decimal(200) == "<200>")
        #expect(decimal(1_234_567_890) == "<1234567890>")
    }

    @Test func writesNegativesWithASign() {
        #expect(decimal(-1) == "<-1>")
        #expect(decimal(-10) == "<-10>")
        #expect(decimal(-987_654) == "<-987654>")
    }

    @Test func writesTheExtremes() {
        #expect(decimal(.max) == "<9223372036854775807>")
        #expect(decimal(.min) == "<-9223372036854775808>")
        #expect(DecimalDigits.count(.max) == 19)
        #expect(DecimalDigits.count(.min) == 20)
    }

    @Test func padsWithZerosAfterTheSign() {
        #expect(decimal(0, minimumDigits: 3) == "<000>")
        #expect(decimal(7, minimumDigits: 2) == "<07>")
        #expect(decimal(42, minimumDigits: 6) == "<000042>")
        #expect(decimal(12_345, minimumDigits: 2) == "<12345>")
        #expect(decimal(-7, minimumDigits: 3) == "<-007>")
        #expect(DecimalDigits.count(-7, minimumDigits: 3) == 4)
    }

    @Test func writesIntoABufferAndSaysWhereItEnded() {
        let text = String(unsafeUninitializedCapacity: 12) { buffer in
            var index = DecimalDigits.write(-45, into: buffer, at: 0)
            buffer[index] = UInt8(ascii: "/")
            index += 1
            return DecimalDigits.write(9, minimumDigits: 4, into: buffer, at: index)
        }
        #expect(text == "-45/0009")
    }

    @Test(arguments: [Int64(1), 9, 99, 100, 999_999, 1_000_000, 4_294_967_296, -9, -100])
    func agreesWithTheStandardLibrary(_ value: Int64) {
        #expect(decimal(value) == "<\(value)>")
        #expect(DecimalDigits.count(value) == String(value).utf8.count)
    }
}
