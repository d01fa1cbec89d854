import Foundation
import Testing
@testable import HitKeep

@Suite struct ULIDTests {
    @Test func hasTheCanonicalFormAndValidates() {
        let id = ULID().description
        #expect(id.count == 26)
        #expect(ULID.isValid(id))
    }

    @Test func sortsByTime() {
        let earlier = ULID(date: Date(timeIntervalSince1970: 1_700_000_000)).description
        let later = ULID(date: Date(timeIntervalSince1970: 1_700_000_001)).description
        #expect(earlier < later)
    }

    @Test(arguments: ["", "01JFKQ4Z7W3M9X0C5T2V8B6N1", "01JFKQ4Z7W3M9X0C5T2V8B6N1RX", "01jfkq4z7w3m9x0c5t2v8b6n1r",
                      "01JFKQ4Z7W3M9X0C5T2V8B6NIR", "81JFKQ4Z7W3M9X0C5T2V8B6N1R", "' OR 1=1 --"])
    func refusesWhatIsNotAULID(_ text: String) {
        #expect(!ULID.isValid(text))
    }

    @Test func acceptsTheDocumentedExample() {
        #expect(ULID.isValid("01JFKQ4Z7W3M9X0C5T2V8B6N1R"))
    }
}

@Suite struct TimestampTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_705_445.123_9)) == "2026-11-26T15:04:05.123Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test func parsesOffsetsAndFractions() throws {
        let utc = try #require(Timestamp.parse("2026-11-26T15:04:05.5Z"))
        let offset = try #require(Timestamp.parse("2026-11-26T16:04:05.5+01:00"))
        #expect(utc == offset)
        #expect(utc.timeIntervalSince1970 == 1_795_705_445.5)
    }

    @Test(arguments: ["2026-02-30T00:00:00Z", "2026-11-26", "2026-11-26T25:00:00Z", "2026-11-26T10:00:00",
                      "2026-11-26T10:00:00.Z", "yesterday", "2026-11-26T10:00:00+0100"])
    func refusesWhatIsNotRFC3339(_ text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}

@Suite struct APITokenTests {
    @Test func generatedTokensHaveTheDocumentedShape() throws {
        let token = APIToken.generate()
        #expect(token.count == 46)
        #expect(token.hasPrefix("hk_live_"))
        #expect(token.dropFirst(8).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(APIToken.isWellFormed(token))
        #expect(APIToken.hint(token) == "hk_live_…" + token.suffix(4))
    }

    @Test func tokensAreNotRepeated() {
        let tokens = Set((0..<1000).map { _ in APIToken.generate() })
        #expect(tokens.count == 1000)
    }

    @Test func aChangedCharacterBreaksTheChecksum() {
        var characters = Array(APIToken.generate())
        characters[10] = characters[10] == "A" ? "B" : "A"
        #expect(!APIToken.isWellFormed(String(characters)))
    }

    @Test(arguments: ["", "hk_live_", "hk_test_abcdefghijklmnopqrstuvwxyz0123456789AB", "hk_live_abc123...",
                      "hk_live_abcdefghijklmnopqrstuvwxyz012345678!AB"])
    func refusesMalformedTokens(_ token: String) {
        #expect(!APIToken.isWellFormed(token))
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
}

@Suite struct MigrationChecksumTests {
    @Test func isTheLowercaseHexSHA256OfTheFile() {
        #expect(Migrator.Migration(version: 1, name: "empty", sql: "").checksum
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Migrator.Migration(version: 2, name: "abc", sql: "abc").checksum
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
