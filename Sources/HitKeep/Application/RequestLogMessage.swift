import TextFormats

/// The message of the line logged for every request: `GET /api/sites 200 1.234ms id=…`. It has the
/// path only, never the query string or headers, which may carry secrets.
///
/// Written into one byte buffer and made a string once: string interpolation would build a string
/// for each number and grow the result piece by piece, on every request.
enum RequestLogMessage {
    static func make(method: String, path: String, status: Int, microseconds: Int64, id: String) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(method.utf8.count + path.utf8.count + id.utf8.count + 32)
        bytes.appendUTF8(method)
        bytes.append(UInt8(ascii: " "))
        bytes.appendUTF8(path)
        bytes.append(UInt8(ascii: " "))
        bytes.appendDecimal(Int64(status))
        bytes.append(UInt8(ascii: " "))
        // Milliseconds with exactly three decimals.
        bytes.appendDecimal(microseconds / 1000)
        bytes.append(UInt8(ascii: "."))
        bytes.appendDecimal(microseconds % 1000, minimumDigits: 3)
        bytes.appendLiteral("ms id=")
        bytes.appendUTF8(id)
        return String(decoding: bytes, as: UTF8.self)
    }
}
