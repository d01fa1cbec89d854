/// The message of the line logged for every request: `GET /api/sites 200 1.234ms id=…`. It has the
/// path only, never the query string or headers, which may carry secrets.
///
/// Written into one byte buffer and made a string once: string interpolation would build a string
/// for each number and grow the result piece by piece, on every request.
enum RequestLogMessage {
    static func make(method: String, path: String, status: Int, microseconds: Int64, id: String) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(method.utf8.count + path.utf8.count + id.utf8.count + 32)
        append(method, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        append(path, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        appendDecimal(Int64(status), to: &bytes)
        bytes.append(UInt8(ascii: " "))
        // Milliseconds with exactly three decimals.
        appendDecimal(microseconds / 1000, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        let fraction = microseconds % 1000
        if fraction < 100 { bytes.append(UInt8(ascii: "0")) }
        if fraction < 10 { bytes.append(UInt8(ascii: "0")) }
        appendDecimal(fraction, to: &bytes)
        bytes.appendLiteral("ms id=")
        append(id, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func append(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    private static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, to: &bytes)
    }

    private static func appendDigits(_ value: UInt64, to bytes: inout [UInt8]) {
        if value >= 10 { appendDigits(value / 10, to: &bytes) }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
