/// What HitKeep keeps of a `User-Agent` header: a device class, a browser and an operating system.
/// The header itself is never stored; these three coarse values cannot single anyone out.
public struct UserAgent: Sendable, Equatable {
    /// `desktop`, `mobile` or `tablet`; empty when the header says nothing at all.
    public var device: String
    /// e.g. `Chrome`, `Firefox`, `Safari`, `Edge`; empty when unknown.
    public var browser: String
    /// e.g. `Windows`, `macOS`, `iOS`, `Android`, `Linux`; empty when unknown.
    public var os: String
    /// Crawlers, link previews, monitors, headless browsers and HTTP libraries: not visitors.
    public var isBot: Bool

    public init(device: String, browser: String, os: String, isBot: Bool) {
        self.device = device
        self.browser = browser
        self.os = os
        self.isBot = isBot
    }

    /// Classifies by substrings, most specific first: every Chromium browser says "Chrome" and
    /// "Safari", every browser says "Mozilla", so the order of the checks is the classifier.
    public init(_ header: String?) {
        let text = SearchableText(header ?? "")
        guard !text.isEmpty else {
            self.init(device: "", browser: "", os: "", isBot: false)
            return
        }
        let os = Self.operatingSystem(text)
        self.init(device: Self.device(text, os: os), browser: Self.browser(text), os: os,
                  isBot: Self.botMarkers.contains { text.contains($0) })
    }

    static let botMarkers = [
        "bot", "crawl", "spider", "slurp", "scrape", "headless", "phantomjs", "lighthouse", "pingdom",
        "uptime", "monitor", "preview", "facebookexternalhit", "embedly", "whatsapp", "curl/", "wget/",
        "python-requests", "python-urllib", "aiohttp", "httpclient", "okhttp", "go-http-client", "java/",
        "libwww", "node-fetch", "axios/", "postman", "insomnia", "feedfetcher", "mediapartners",
    ]

    private static func operatingSystem(_ text: SearchableText) -> String {
        if text.contains("windows phone") { return "Windows Phone" }
        if text.contains("windows") { return "Windows" }
        if text.contains("iphone") || text.contains("ipod") || text.contains("ipad") { return "iOS" }
        if text.contains("android") { return "Android" }
        if text.contains("cros") { return "ChromeOS" }
        if text.contains("mac os x") || text.contains("macintosh") { return "macOS" }
        if text.contains("linux") || text.contains("x11") { return "Linux" }
        return ""
    }

    private static func device(_ text: SearchableText, os: String) -> String {
        if text.contains("ipad") || text.contains("tablet") { return "tablet" }
        // Android tablets are the Android devices that do not say "mobile".
        if os == "Android" { return text.contains("mobile") ? "mobile" : "tablet" }
        if text.contains("mobi") || text.contains("iphone") || text.contains("ipod") || os == "Windows Phone" {
            return "mobile"
        }
        return "desktop"
    }

    private static func browser(_ text: SearchableText) -> String {
        if text.contains("edg/") || text.contains("edga/") || text.contains("edgios/") || text.contains("edge/") { return "Edge" }
        if text.contains("opr/") || text.contains("opera") { return "Opera" }
        if text.contains("samsungbrowser/") { return "Samsung Internet" }
        if text.contains("yabrowser/") { return "Yandex" }
        if text.contains("vivaldi/") { return "Vivaldi" }
        if text.contains("firefox/") || text.contains("fxios/") { return "Firefox" }
        if text.contains("crios/") || text.contains("chrome/") || text.contains("chromium/") { return "Chrome" }
        if text.contains("msie ") || text.contains("trident/") { return "Internet Explorer" }
        if text.contains("safari/") || (text.contains("applewebkit/") && (text.contains("iphone") || text.contains("ipad"))) {
            return "Safari"
        }
        return ""
    }
}
