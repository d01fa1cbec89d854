import Foundation

/// An absolute http(s) URL taken apart the way ingestion needs it: host, path, query parameters.
public struct WebURL: Sendable {
    public var scheme: String
    /// Lower-cased, without port.
    public var host: String
    public var path: String
    public var query: QueryParameters

    public init?(_ text: String) {
        guard let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host?.lowercased(), !host.isEmpty else { return nil }
        self.scheme = scheme
        self.host = host
        let path = components.percentEncodedPath
        self.path = path.isEmpty ? "/" : path
        guard let query = QueryParameters(parsing: components.percentEncodedQuery ?? "") else { return nil }
        self.query = query
    }

    /// The host as sites are registered: without a leading `www.`.
    public var siteHost: String {
        host.hasPrefix("www.") ? String(host.dropFirst(4)) : host
    }

    /// `scheme://host/path`, without port, query string or fragment.
    public var withoutQuery: String {
        "\(scheme)://\(host)\(path)"
    }

    /// The site domain of an `Origin` header (`https://www.Example.com:8443` → `example.com`);
    /// nil for a missing, opaque (`null`) or malformed origin.
    public static func originHost(_ origin: String?) -> String? {
        guard let origin, origin.utf8.count <= 300 else { return nil }
        if let host = plainOriginHost(origin) { return host }
        guard let url = WebURL(origin), url.path == "/" || url.path.isEmpty,
              !origin.utf8.contains(UInt8(ascii: "?")), !origin.utf8.contains(UInt8(ascii: "#")) else { return nil }
        return url.siteHost
    }

    /// The site domain of an origin of the form every browser sends, `http(s)://` + a host name of
    /// letters, digits, dots and hyphens + an optional port, read without URLComponents (which costs
    /// more than the rest of a page view's ingestion). Anything else is nil and goes the long way.
    static func plainOriginHost(_ origin: String) -> String? {
        var origin = origin
        return origin.withUTF8 { origin -> String? in
            let hostStart = Self.starts(origin[...], with: "https://") ? 8 : Self.starts(origin[...], with: "http://") ? 7 : 0
            guard hostStart > 0 else { return nil }
            var hostEnd = hostStart
            while hostEnd < origin.count && origin[hostEnd] != UInt8(ascii: ":") {
                switch origin[hostEnd] {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                    // URLComponents shows punycode labels (`xn--…`) decoded, as sites may be registered.
                    if hostEnd == hostStart || origin[hostEnd - 1] == UInt8(ascii: "."),
                       Self.starts(origin[hostEnd...], with: "xn--", ignoringCase: true) {
                        return nil
                    }
                case UInt8(ascii: "."):
                    // Empty labels are for URLComponents to judge.
                    guard hostEnd > hostStart, origin[hostEnd - 1] != UInt8(ascii: ".") else { return nil }
                default:
                    return nil
                }
                hostEnd += 1
            }
            guard hostEnd > hostStart, origin[hostEnd - 1] != UInt8(ascii: "."), origin[hostEnd - 1] != UInt8(ascii: "-") else {
                return nil
            }
            if hostEnd < origin.count {
                // A port: 1 to 5 digits, at most 65535.
                let digits = origin[(hostEnd + 1)...]
                guard (1...5).contains(digits.count) else { return nil }
                var port = 0
                for byte in digits {
                    guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                    port = port * 10 + Int(byte - UInt8(ascii: "0"))
                }
                guard port <= 65_535 else { return nil }
            }
            var host = origin[hostStart..<hostEnd]
            if host.count > 4 && Self.starts(host, with: "www.", ignoringCase: true) {
                host = host.dropFirst(4)
            }
            // Browsers send the host in lower case.
            guard host.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else {
                return String(decoding: UnsafeBufferPointer(rebasing: host), as: UTF8.self)
            }
            return String(decoding: host.map(Self.lowercased), as: UTF8.self)
        }
    }

    private static func starts(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, with prefix: StaticString, ignoringCase: Bool = false) -> Bool {
        guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
        for (byte, expected) in zip(bytes, UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
            where (ignoringCase ? lowercased(byte) : byte) != expected {
            return false
        }
        return true
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}
