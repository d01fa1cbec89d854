import Testing
import TextFormats

@Suite struct HexDigitsTests {
    @Test func readsDigitsInEitherCase() {
        for byte in UInt8.min...UInt8.max {
            let expected = UInt8(String(UnicodeScalar(byte)), radix: 16)
            #expect(HexDigits.value(of: byte) == expected, "byte \(byte)")
        }
    }

    @Test func readsPairsHighDigitFirst() {
        #expect(HexDigits.byte(high: UInt8(ascii: "2"), low: UInt8(ascii: "F")) == 0x2F)
        #expect(HexDigits.byte(high: UInt8(ascii: "f"), low: UInt8(ascii: "0")) == 0xF0)
        #expect(HexDigits.byte(high: UInt8(ascii: "0"), low: UInt8(ascii: "0")) == 0)
        #expect(HexDigits.byte(high: UInt8(ascii: "g"), low: UInt8(ascii: "0")) == nil)
        #expect(HexDigits.byte(high: UInt8(ascii: "0"), low: UInt8(ascii: " ")) == nil)
    }

    @Test func writesLowercaseDigitsOfTheLowNibble() {
        let digits = (0..<16).map { HexDigits.digit(UInt8($0)) }
        #expect(String(decoding: digits, as: UTF8.self) == "0123456789abcdef")
        #expect(HexDigits.digit(0xAB) == UInt8(ascii: "b"))
        #expect(HexDigits.digit(0xAB >> 4) == UInt8(ascii: "a"))
    }

    @Test func writesBytesAsAString() {
        let bytes: [UInt8] = [0x00, 0x0F, 0xA5, 0xFF]
        #expect(bytes.withUnsafeBytes { HexDigits.string($0) } == "000fa5ff")
        #expect(bytes.withUnsafeBytes { HexDigits.string($0, prefix: "\\x") } == "\\x000fa5ff")
        #expect([UInt8]().withUnsafeBytes { HexDigits.string($0) } == "")
        #expect([UInt8]().withUnsafeBytes { HexDigits.string($0, prefix: "\\x") } == "\\x")
        #expect(withUnsafeBytes(of: UInt64(0x0123_4567_89AB_CDEF).bigEndian) { HexDigits.string($0) } == "0123456789abcdef")
    }

    @Test func everyByteRoundTrips() {
        for byte in UInt8.min...UInt8.max {
            #expect(HexDigits.byte(high: HexDigits.digit(byte >> 4), low: HexDigits.digit(byte)) == byte)
        }
    }
}
