import Foundation

/// The checks every field of a page view passes before it is stored, shared by the tracker endpoint,
/// the server-side endpoint and the data generator. Each failure is a 400 with its own code, so
/// that nothing malformed is ever written.
public enum PageViewFields {
    public static let maximumPathLength = 2048
    public static let maximumURLLength = 4096
    public static let maximumCampaignLength = 256

    /// A path as stored: starts with `/`, without query string or fragment, at most 2048 bytes.
    public static func path(_ text: String) throws(DomainError) -> String {
        let end = text.utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? text.endIndex
        let path = String(text[..<end])
        guard path.hasPrefix("/") else {
            throw .invalid("invalid_path", "path must start with /")
        }
        guard path.utf8.count <= maximumPathLength else {
            throw .invalid("invalid_path", "path must be at most \(maximumPathLength) bytes")
        }
        guard !TextValidation.containsControlCharacters(path) else {
            throw .invalid("invalid_path", "path must not contain control characters")
        }
        return path
    }

    /// Session ids are opaque tokens from the tracker or the caller: 1 to 64 letters, digits, `-` or `_`.
    public static func sessionID(_ text: String) throws(DomainError) -> String {
        guard (1...64).contains(text.utf8.count), text.utf8.allSatisfy(isTokenByte) else {
            throw .invalid("invalid_session_id", "session_id must be 1 to 64 letters, digits, - or _")
        }
        return text
    }

    /// A fresh session id for an event that came without one (its own session).
    public static func randomSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        return "s-" + String((0..<22).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// The tracker's `page_id`: checked like a session id, not stored.
    public static func pageID(_ text: String) throws(DomainError) -> String {
        guard (1...64).contains(text.utf8.count), text.utf8.allSatisfy(isTokenByte) else {
            throw .invalid("invalid_page_id", "page_id must be 1 to 64 letters, digits, - or _")
        }
        return text
    }

    /// A referrer URL: its host (lower-cased, without `www.`) and the URL without query or fragment.
    /// Empty stays empty; anything that is not an absolute http(s) URL is refused.
    public static func referrer(_ text: String) throws(DomainError) -> (host: String, url: String) {
        if text.isEmpty { return ("", "") }
        guard text.utf8.count <= maximumURLLength, let url = WebURL(text) else {
            throw .invalid("invalid_referrer", "referrer must be an absolute http or https URL")
        }
        return (url.siteHost, url.withoutQuery)
    }

    /// A BCP 47 language tag such as `en-US`, normalised to `en-US` casing.
    public static func language(_ text: String) throws(DomainError) -> String {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (2...35).contains(text.utf8.count), let first = parts.first, (2...8).contains(first.count),
              first.allSatisfy({ $0.isASCII && $0.isLetter }),
              parts.dropFirst().allSatisfy({ (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        else {
            throw .invalid("invalid_language", "lang must be a language tag such as en-US")
        }
        return parts.enumerated().map { index, part in
            index == 0 ? part.lowercased() : (part.count == 2 ? part.uppercased() : part.lowercased())
        }.joined(separator: "-")
    }

    /// A `utm_*` value: trimmed, at most 256 characters, no control characters.
    public static func campaign(_ text: String, field: String) throws(DomainError) -> String {
        // Most page views carry no campaign at all.
        if text.isEmpty { return "" }
        guard let value = TextValidation.label(text, maximum: maximumCampaignLength, allowEmpty: true) else {
            throw .invalid("invalid_utm", "\(field) must be at most \(maximumCampaignLength) characters without control characters")
        }
        return value
    }

    /// A country from the trusted header nginx sets: two letters, upper-cased; anything else is unknown.
    public static func country(_ header: String?) -> String {
        guard let header, header.utf8.count == 2, header.allSatisfy({ $0.isASCII && $0.isLetter }) else { return "" }
        let code = header.uppercased()
        // XX and T1 are the "unknown" and "Tor" markers of common GeoIP sources.
        return code == "XX" ? "" : code
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
}
