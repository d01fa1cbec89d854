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
        guard let origin, origin.utf8.count <= 300, let url = WebURL(origin), url.path == "/" || url.path.isEmpty,
              !origin.contains("?"), !origin.contains("#") else { return nil }
        return url.siteHost
    }
}
