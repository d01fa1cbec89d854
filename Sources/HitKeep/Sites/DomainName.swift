/// A site's domain as registered: lower-case host name of at least two labels (or `localhost`), without scheme,
/// port, path or a leading `www.` (the tracker strips `www.` from the Origin it sees).
enum DomainName {
    static func normalize(_ text: String) throws(DomainError) -> String {
        let domain = text.trimmingWhitespaceAndNewlines().lowercased()
        func reject(_ why: String) -> DomainError {
            .invalid("invalid_domain", "domain \(why); give a bare host name such as example.com")
        }
        guard !domain.isEmpty else { throw reject("is empty") }
        guard domain.utf8.count <= 253 else { throw reject("is longer than 253 characters") }
        if domain.contains("://") { throw reject("must not include a scheme") }
        if domain.contains("/") || domain.contains("?") || domain.contains("#") { throw reject("must not include a path") }
        if domain.contains(":") || domain.hasPrefix("[") { throw reject("must not include a port or be an IP address") }
        if domain.hasPrefix("www.") { throw reject("must not start with www.") }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        // `localhost` (any port, as every Origin's) is a site for development.
        guard labels.count >= 2 || domain == "localhost" else { throw reject("needs at least two labels, or is localhost") }
        for label in labels {
            guard (1...63).contains(label.utf8.count),
                  label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }),
                  label.first != "-", label.last != "-" else {
                throw reject("has an invalid label (letters, digits and hyphens only; IDNs in punycode)")
            }
        }
        if labels.last!.allSatisfy(\.isNumber) { throw reject("must not be an IP address") }
        return domain
    }
}
