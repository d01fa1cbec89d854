/// Reads fixed-shape ASCII text field by field, for the date and time parsers. Works on the bytes
/// of the string in place: the parsers run for every event and every timed API request, and
/// copying the text into an array first was their one allocation.
struct ASCIICursor {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index == bytes.count }

    /// The next byte, consumed.
    mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    /// Consumes `byte` if it is next.
    mutating func skip(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Consumes one decimal digit if one is next, and gives its value.
    mutating func digit() -> Int? {
        guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else {
            return nil
        }
        defer { index += 1 }
        return Int(bytes[index] &- UInt8(ascii: "0"))
    }

    /// A number of `width` digits: as many as follow, up to its upper bound, and nil if that is
    /// fewer than its lower bound.
    mutating func number(digits width: ClosedRange<Int>) -> Int? {
        var value = 0
        var count = 0
        while count < width.upperBound, let digit = digit() {
            value = value * 10 + digit
            count += 1
        }
        return count >= width.lowerBound ? value : nil
    }

    /// A number of exactly `width` digits.
    mutating func number(digits width: Int) -> Int? {
        number(digits: width...width)
    }
}
