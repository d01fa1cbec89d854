import CSupport

/// A header lower-cased (in ASCII, as every marker is) and searched with memmem. `String.contains`
/// with Foundation imported goes through NSString and cost more than all the rest of a page view.
struct SearchableText {
    private let bytes: [UInt8]

    init(_ text: String) {
        bytes = text.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 }
    }

    var isEmpty: Bool { bytes.isEmpty }

    func contains(_ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { needle in
            bytes.withUnsafeBytes { haystack in
                hk_contains_bytes(haystack.baseAddress, haystack.count, needle.baseAddress, needle.count) != 0
            }
        }
    }
}
