import Foundation
import Testing
@testable import PostgresClient

@Suite struct TextFormatTests {
    @Test func arraysRoundTripThroughTheTextFormat() throws {
        let values = ["plain", "with space", "quote\"d", "back\\slash", "comma,inside", ""]
        let decoded = try #require([String](postgresText: values.postgresText))
        #expect(decoded == values)
    }

    @Test func arraysReadAsPostgreSQLPrintsThem() {
        #expect([String](postgresText: "{sites:read,stats:read}") == ["sites:read", "stats:read"])
        #expect([String](postgresText: "{}") == [])
        #expect([Int](postgresText: "{1,2,3}") == [1, 2, 3])
        #expect([String](postgresText: "{a,NULL}") == nil)
    }

    @Test func byteaUsesHexForm() throws {
        let bytes = PostgresBytes([0x00, 0xAB, 0xFF])
        #expect(bytes.postgresText == "\\x00abff")
        #expect(PostgresBytes(postgresText: "\\x00abff") == bytes)
        #expect(PostgresBytes(postgresText: "\\x0") == nil)
    }

    @Test func timestampsParseWithOffsets() throws {
        let date = try #require(Date(postgresText: "2026-11-26 15:04:05.123456+00"))
        #expect(abs(date.timeIntervalSince1970 - 1_795_705_445.123456) < 0.000_001)
        #expect(Date(postgresText: "2026-11-26 16:04:05.123456+01") == date)
        #expect(Date(postgresText: "2026-11-26 10:34:05.123456-04:30") == date)
        #expect(Date(postgresText: "2026-11-26") == nil)
    }

    @Test func timestampsAreWrittenWithMicrosecondsInUTC() {
        #expect(Date(timeIntervalSince1970: 1_795_705_445.123456).postgresText == "2026-11-26 15:04:05.123456+00")
        #expect(Date(timeIntervalSince1970: 0).postgresText == "1970-01-01 00:00:00.000000+00")
        #expect(Date(timeIntervalSince1970: -0.5).postgresText == "1969-12-31 23:59:59.500000+00")
        #expect(Date(timeIntervalSince1970: 1_709_164_800.000_007).postgresText == "2024-02-29 00:00:00.000007+00")
        #expect(Date(timeIntervalSince1970: 253_402_300_800).postgresText == "10000-01-01 00:00:00.000000+00")
        for seconds in [-86_400.25, 951_868_800.999_999, 1_795_705_445.5] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(Date(postgresText: date.postgresText).map { abs($0.timeIntervalSince(date)) < 0.000_001 } == true)
        }
    }

    @Test func timestampsCountDaysAcrossLeapYearsAndBeforeTheEpoch() {
        #expect(Date(postgresText: "2024-02-29 00:00:00+00")?.timeIntervalSince1970 == 1_709_164_800)
        #expect(Date(postgresText: "2000-03-01 00:00:00+00")?.timeIntervalSince1970 == 951_868_800)
        #expect(Date(postgresText: "1969-12-31 23:59:59+00")?.timeIntervalSince1970 == -1)
        #expect(Date(postgresText: "2026-13-01 00:00:00+00") == nil)
    }

    @Test func timestampsFormatForTheServer() throws {
        let date = Date(timeIntervalSince1970: 1_795_705_445.5)
        #expect(date.postgresText == "2026-11-26 15:04:05.500000+00")
        #expect(Date(postgresText: date.postgresText) == date)
    }

    @Test func errorsClassifyUnavailability() {
        #expect(PostgresError(kind: .connectionFailure, message: "x").isUnavailable)
        #expect(PostgresError(kind: .server, sqlState: "57P01", message: "x").isUnavailable)
        #expect(!PostgresError(kind: .server, sqlState: "23505", message: "x").isUnavailable)
        #expect(PostgresError(kind: .server, sqlState: "23505", message: "x").isUniqueViolation)
    }
}
