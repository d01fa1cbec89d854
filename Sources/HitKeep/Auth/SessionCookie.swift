import Foundation

/// The session cookie: 32 random bytes, base64url, of which the database keeps only the SHA-256.
///
/// Over https it is `__Host-hk_token`: browsers accept a cookie of that name only when it is
/// `Secure`, for `Path=/` and without `Domain`, so neither a plain-http page nor a sibling subdomain
/// can plant or overwrite one. Plain `hk_token` is for http, where that promise cannot hold.
enum SessionCookie {
    static let plainName = "hk_token"
    static let hostOnlyName = "__Host-hk_token"

    static func name(_ configuration: Configuration) -> String {
        configuration.cookiesAreSecure ? hostOnlyName : plainName
    }

    static func newSecret() -> String {
        Data(SecretDigest.randomBytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether a cookie value could be one of ours (43 base64url characters); anything else is
    /// refused without asking the database.
    static func isWellFormed(_ value: String) -> Bool {
        value.utf8.count == 43 && value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    static func setCookie(_ secret: String, maxAge: Int, configuration: Configuration) -> String {
        var value = "\(name(configuration))=\(secret); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax"
        if configuration.cookiesAreSecure { value += "; Secure" }
        return value
    }

    static func clearCookie(configuration: Configuration) -> String {
        setCookie("", maxAge: 0, configuration: configuration)
    }
}
