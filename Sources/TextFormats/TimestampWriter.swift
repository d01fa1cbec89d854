import Foundation

/// Writes UTC instants as text: `YYYY-MM-DD`, the format's separator, `hh:mm:ss`, a fraction of
/// `fractionDigits` digits (none when 0), and the format's UTC designator.
///
/// Written byte by byte into exactly the storage the result needs: every event sent to PostgreSQL and
/// most objects the API returns carry a few of these, and every log line one, so formatters,
/// `String(format:)` and interpolated padded numbers would each cost more than the rest of the line.
public enum TimestampWriter {
    /// `date` as text. The fraction is cut, not rounded, so that an instant is never written as later
    /// than it is: 23:59:59.9999 stays in its day.
    public static func string(_ date: Date, format: TimestampFormat, fractionDigits: Int) -> String {
        let (fields, fraction) = split(date, fractionDigits: fractionDigits)
        let length = count(fields, fractionDigits: fractionDigits, format: format)
        return String(unsafeUninitializedCapacity: length) { text in
            write(fields, fraction: fraction, fractionDigits: fractionDigits, format: format, into: text)
        }
    }

    /// Appends `date` as `string` writes it, without making the string: a statement's parameters
    /// go to PostgreSQL as one buffer of bytes.
    public static func append(_ date: Date, format: TimestampFormat, fractionDigits: Int, to bytes: inout [UInt8]) {
        let (fields, fraction) = split(date, fractionDigits: fractionDigits)
        append(fields, fraction: fraction, fractionDigits: fractionDigits, format: format, to: &bytes)
    }

    /// Appends a whole-second instant, as a log line's `2026-11-26T15:04:05Z`.
    public static func append(secondsSinceEpoch seconds: Int64, format: TimestampFormat, to bytes: inout [UInt8]) {
        append(UTCDateTime(secondsSinceEpoch: seconds), fraction: 0, fractionDigits: 0, format: format, to: &bytes)
    }

    /// The instant's fields to the second, and the rest in units of 10^-fractionDigits seconds.
    private static func split(_ date: Date, fractionDigits: Int) -> (UTCDateTime, fraction: Int64) {
        let scale = powerOfTen(fractionDigits)
        let units = Int64((date.timeIntervalSince1970 * Double(scale)).rounded(.down))
        let seconds = Int64(CivilDate.floorDivision(Int(units), Int(scale)))
        return (UTCDateTime(secondsSinceEpoch: seconds), units - seconds * scale)
    }

    private static func append(_ fields: UTCDateTime, fraction: Int64, fractionDigits: Int, format: TimestampFormat,
                               to bytes: inout [UInt8]) {
        let length = count(fields, fractionDigits: fractionDigits, format: format)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { text in
            let written = write(fields, fraction: fraction, fractionDigits: fractionDigits, format: format, into: text)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[..<written]))
        }
    }

    /// Years are four digits, more from 10000 on; a year before 0 is written as a plain negative
    /// number, as the `%d` of the former PostgreSQL writer did (no real date has one, and neither
    /// format defines one).
    private static func yearDigits(_ year: Int) -> Int {
        year < 0 ? 1 : 4
    }

    private static func count(_ fields: UTCDateTime, fractionDigits: Int, format: TimestampFormat) -> Int {
        let year = DecimalDigits.count(Int64(fields.date.year), minimumDigits: yearDigits(fields.date.year))
        let fraction = fractionDigits > 0 ? 1 + fractionDigits : 0
        let monthToSecond = 15 // "-MM-DD hh:mm:ss"
        return year + monthToSecond + fraction + format.utcDesignator.utf8CodeUnitCount
    }

    private static func write(_ fields: UTCDateTime, fraction: Int64, fractionDigits: Int, format: TimestampFormat,
                              into text: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var index = DecimalDigits.write(Int64(fields.date.year), minimumDigits: yearDigits(fields.date.year),
                                        into: text, at: 0)
        func put(_ byte: UInt8) {
            text[index] = byte
            index += 1
        }
        func put(_ value: Int, digits: Int) {
            index = DecimalDigits.write(Int64(value), minimumDigits: digits, into: text, at: index)
        }
        put(UInt8(ascii: "-")); put(fields.date.month, digits: 2)
        put(UInt8(ascii: "-")); put(fields.date.day, digits: 2)
        put(format.dateTimeSeparator); put(fields.hour, digits: 2)
        put(UInt8(ascii: ":")); put(fields.minute, digits: 2)
        put(UInt8(ascii: ":")); put(fields.second, digits: 2)
        if fractionDigits > 0 {
            put(UInt8(ascii: "."))
            index = DecimalDigits.write(fraction, minimumDigits: fractionDigits, into: text, at: index)
        }
        let designator = format.utcDesignator
        for offset in 0..<designator.utf8CodeUnitCount {
            put(designator.utf8Start[offset])
        }
        return index
    }

    /// 10^digits, for 0 to 9 digits: nanoseconds are as fine as a `Date` holds.
    private static func powerOfTen(_ digits: Int) -> Int64 {
        precondition((0...9).contains(digits), "fractionDigits must be 0 to 9")
        var power: Int64 = 1
        for _ in 0..<digits { power *= 10 }
        return power
    }
}
