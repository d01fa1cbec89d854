import Foundation
import Testing
import TextFormats

@Suite struct TimestampWriterTests {
    private func postgreSQL(_ seconds: Double) -> String {
        TimestampWriter.string(Date(timeIntervalSince1970: seconds), format: .postgreSQL, fractionDigits: 6)
    }

    private func rfc3339(_ seconds: Double) -> String {
        TimestampWriter.string(Date(timeIntervalSince1970: seconds), format: .rfc3339, fractionDigits: 3)
    }

    @Test func writesPostgreSQLWithMicroseconds() {
        #expect(postgreSQL(1_795_705_445.123456) == "2026-11-26 15:04:05.123456+00")
        #expect(postgreSQL(0) == "1970-01-01 00:00:00.000000+00")
        #expect(postgreSQL(1_709_164_800.000_007) == "2024-02-29 00:00:00.000007+00")
    }

    @Test func writesRFC3339WithMilliseconds() {
        #expect(rfc3339(1_795_705_445.123_9) == "2026-11-26T15:04:05.123Z")
        #expect(rfc3339(0) == "1970-01-01T00:00:00.000Z")
        #expect(rfc3339(951_782_400) == "2000-02-29T00:00:00.000Z")
    }

    @Test func cutsTheFractionTowardsThePast() {
        #expect(postgreSQL(-0.5) == "1969-12-31 23:59:59.500000+00")
        #expect(rfc3339(-0.0005) == "1969-12-31T23:59:59.999Z")
        #expect(rfc3339(-86_400.25) == "1969-12-30T23:59:59.750Z")
        #expect(rfc3339(1_709_251_199.999_9) == "2024-02-29T23:59:59.999Z")
    }

    @Test func writesYearsOfFiveDigits() {
        #expect(postgreSQL(253_402_300_800) == "10000-01-01 00:00:00.000000+00")
        #expect(rfc3339(253_402_300_799.5) == "9999-12-31T23:59:59.500Z")
        #expect(rfc3339(253_402_300_800) == "10000-01-01T00:00:00.000Z")
    }

    @Test func writesYearsBeforeOne() {
        #expect(postgreSQL(-62_167_219_200) == "0000-01-01 00:00:00.000000+00")
        #expect(postgreSQL(-62_167_219_201) == "-1-12-31 23:59:59.000000+00")
    }

    @Test func appendsWholeSecondsForLogLines() {
        var line = Array("> ".utf8)
        TimestampWriter.append(secondsSinceEpoch: 1_795_705_445, format: .rfc3339, to: &line)
        TimestampWriter.append(secondsSinceEpoch: -1, format: .rfc3339, to: &line)
        #expect(String(decoding: line, as: UTF8.self) == "> 2026-11-26T15:04:05Z1969-12-31T23:59:59Z")
    }

    /// Byte for byte what the C library's calendar and printf wrote before, over 1900 to 2300.
    @Test func matchesGmtimeAndPrintf() {
        var seconds = -2_208_988_800.0
        while seconds < 10_413_792_000 {
            var time = time_t(seconds.rounded(.down))
            var parts = tm()
            gmtime_r(&time, &parts)
            let micro = Int((seconds - seconds.rounded(.down)) * 1_000_000)
            let expected = String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", parts.tm_year + 1900, parts.tm_mon + 1,
                                  parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, micro)
            if postgreSQL(seconds) != expected {
                Issue.record("\(seconds): \(postgreSQL(seconds)), expected \(expected)")
                return
            }
            seconds += 8_640_023.25
        }
    }
}

@Suite struct TimestampParserTests {
    private func rfc3339(_ text: String) -> Double? {
        TimestampParser.date(from: text, format: .rfc3339)?.timeIntervalSince1970
    }

    private func postgreSQL(_ text: String) -> Double? {
        TimestampParser.date(from: text, format: .postgreSQL)?.timeIntervalSince1970
    }

    @Test func readsRFC3339WithOffsetsAndFractions() {
        #expect(rfc3339("2026-11-26T15:04:05.5Z") == 1_795_705_445.5)
        #expect(rfc3339("2026-11-26t15:04:05.5z") == 1_795_705_445.5)
        #expect(rfc3339("2026-11-26 16:04:05.5+01:00") == 1_795_705_445.5)
        #expect(rfc3339("2026-11-26T10:34:05.5-04:30") == 1_795_705_445.5)
        #expect(rfc3339("1969-12-31T23:59:59Z") == -1)
        #expect(rfc3339("0000-01-01T00:00:00Z") == -62_167_219_200)
        #expect(rfc3339("2016-12-31T23:59:60Z") == rfc3339("2016-12-31T23:59:59Z"))
    }

    @Test(arguments: ["2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
                      "2026-11-26", "2026-11-26T25:00:00Z", "2026-11-26T10:60:00Z", "2026-11-26T10:00:00",
                      "2026-11-26T10:00:00.Z", "2026-11-26T10:00:00+0100", "2026-11-26T10:00:00+01",
                      "2026-11-26T10:00:00+01:00:00", "2026-11-26T10:00:00+24:00", "10000-01-01T00:00:00Z",
                      "2026-11-26T10:00:00Z ", "2026-1-26T10:00:00Z", "yesterday", ""])
    func refusesWhatIsNotRFC3339(_ text: String) {
        #expect(rfc3339(text) == nil)
    }

    @Test func readsPostgreSQLOffsetsOfOneToThreeFields() {
        let utc = 1_795_705_445.123456
        #expect(postgreSQL("2026-11-26 15:04:05.123456+00").map { abs($0 - utc) < 0.000_001 } == true)
        #expect(postgreSQL("2026-11-26 16:04:05.123456+01") == postgreSQL("2026-11-26 15:04:05.123456+00"))
        #expect(postgreSQL("2026-11-26 10:34:05.123456-04:30") == postgreSQL("2026-11-26 15:04:05.123456+00"))
        #expect(postgreSQL("1900-01-01 00:53:28+00:53:28") == -2_208_988_800)
        #expect(postgreSQL("2026-11-26 15:04:05") == 1_795_705_445)
    }

    @Test func readsPostgreSQLYearsOfFiveAndSixDigits() {
        #expect(postgreSQL("10000-01-01 00:00:00+00") == 253_402_300_800)
        #expect(postgreSQL("294276-12-31 23:59:59+00") == 9_224_318_015_999)
        #expect(postgreSQL("1234567-01-01 00:00:00+00") == nil)
    }

    @Test(arguments: ["2026-11-26T15:04:05+00", "2026-11-26 15:04:05Z", "2026-11-26 15:04:05.+00", "2026-02-29 00:00:00+00",
                      "2026-11-26 15:04:05+00 BC", "infinity", "2026-11-26"])
    func refusesWhatPostgreSQLDoesNotWrite(_ text: String) {
        #expect(postgreSQL(text) == nil)
    }

    @Test func roundTripsWhatTheWriterWrites() {
        for seconds in [-86_400.25, -0.5, 0, 951_868_800.999_999, 1_795_705_445.5, 253_402_300_800.5] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = TimestampWriter.string(date, format: .postgreSQL, fractionDigits: 6)
            #expect(TimestampParser.date(from: text, format: .postgreSQL).map { abs($0.timeIntervalSince(date)) < 0.000_001 } == true,
                    "\(text)")
            let api = TimestampWriter.string(date, format: .rfc3339, fractionDigits: 3)
            // RFC 3339 has four-digit years only: year 10000 is written, but not read.
            let parsed = TimestampParser.date(from: api, format: .rfc3339)
            #expect(parsed.map { abs($0.timeIntervalSince(date)) < 0.001 } ?? false == (seconds < 253_402_300_800), "\(api)")
        }
    }

    @Test func readsCalendarDatesAlone() {
        #expect(TimestampParser.civilDate(from: "2024-02-29") == CivilDate(year: 2024, month: 2, day: 29))
        #expect(TimestampParser.civilDate(from: "1969-12-31") == CivilDate(year: 1969, month: 12, day: 31))
        #expect(TimestampParser.civilDate(from: "2026-02-29") == nil)
        #expect(TimestampParser.civilDate(from: "2026-11-26T00:00:00Z") == nil)
        #expect(TimestampParser.civilDate(from: "20261-01-01") == nil)
        #expect(TimestampParser.civilDate(from: "2026-1-01") == nil)
    }
}
