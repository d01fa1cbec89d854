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
        var bytes = origin.utf8[...]
        if bytes.starts(with: "https://".utf8) {
            bytes = bytes.dropFirst(8)
        } else if bytes.starts(with: "http://".utf8) {
            bytes = bytes.dropFirst(7)
        } else {
            return nil
        }
        var host: [UInt8] = []
        host.reserveCapacity(bytes.count)
        while let byte = bytes.first, byte != UInt8(ascii: ":") {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                host.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                host.append(byte | 0x20)
            case UInt8(ascii: "."):
                // Empty labels are for URLComponents to judge.
                guard let last = host.last, last != UInt8(ascii: ".") else { return nil }
                host.append(byte)
            default:
                return nil
            }
            bytes = bytes.dropFirst()
        }
        guard let last = host.last, last != UInt8(ascii: "."), last != UInt8(ascii: "-") else { return nil }
        // URLComponents shows punycode labels (`xn--…`) decoded, as sites may be registered.
        for (index, byte) in host.enumerated() where index == 0 || byte == UInt8(ascii: ".") {
            if host[(index == 0 ? 0 : index + 1)...].starts(with: "xn--".utf8) { return nil }
        }
        if !bytes.isEmpty {
            // A port: 1 to 5 digits, at most 65535.
            let digits = bytes.dropFirst()
            guard (1...5).contains(digits.count), digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let port = Int(String(decoding: digits, as: UTF8.self)), port <= 65_535 else { return nil }
        }
        let domain = host.starts(with: "www.".utf8) && host.count > 4 ? host.dropFirst(4) : host[...]
        return String(decoding: domain, as: UTF8.self)
    }
}
