/// Comma-separated values as RFC 4180 writes them: records end with CRLF, and a field that holds a
/// comma, a double quote, a CR or an LF is enclosed in double quotes, with each quote inside doubled.
/// Any other field is written as it is, so numbers and plain names read the same in every program.
extension Array where Element == UInt8 {
    /// Appends one record: the fields separated by commas, then CRLF.
    public mutating func appendCSVRecord(_ fields: [String]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { append(UInt8(ascii: ",")) }
            appendCSVField(field)
        }
        append(contentsOf: [0x0D, 0x0A])
    }

    /// Appends one field, quoted when RFC 4180 requires it.
    public mutating func appendCSVField(_ field: String) {
        var field = field
        field.withUTF8 { utf8 in
            guard utf8.contains(where: Self.needsQuotes) else {
                append(contentsOf: utf8)
                return
            }
            append(UInt8(ascii: "\""))
            for byte in utf8 {
                if byte == UInt8(ascii: "\"") { append(byte) }
                append(byte)
            }
            append(UInt8(ascii: "\""))
        }
    }

    private static func needsQuotes(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == 0x0D || byte == 0x0A
    }
}
