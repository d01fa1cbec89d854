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
        if text.contains("windows phone") { return OperatingSystem.windowsPhone.rawValue }
        if text.contains("windows") { return OperatingSystem.windows.rawValue }
        if text.contains("iphone") || text.contains("ipod") || text.contains("ipad") { return OperatingSystem.iOS.rawValue }
        if text.contains("android") { return OperatingSystem.android.rawValue }
        if text.contains("cros") { return OperatingSystem.chromeOS.rawValue }
        if text.contains("mac os x") || text.contains("macintosh") { return OperatingSystem.macOS.rawValue }
        if text.contains("linux") || text.contains("x11") { return OperatingSystem.linux.rawValue }
        return ""
    }

    private static func device(_ text: SearchableText, os: String) -> String {
        if text.contains("ipad") || text.contains("tablet") { return DeviceClass.tablet.rawValue }
        // Android tablets are the Android devices that do not say "mobile".
        if os == OperatingSystem.android.rawValue { return text.contains("mobile") ? DeviceClass.mobile.rawValue : DeviceClass.tablet.rawValue }
        if text.contains("mobi") || text.contains("iphone") || text.contains("ipod") || os == OperatingSystem.windowsPhone.rawValue {
            return DeviceClass.mobile.rawValue
        }
        return DeviceClass.desktop.rawValue
    }

    private static func browser(_ text: SearchableText) -> String {
        if text.contains("edg/") || text.contains("edga/") || text.contains("edgios/") || text.contains("edge/") { return Browser.edge.rawValue }
        if text.contains("opr/") || text.contains("opera") { return Browser.opera.rawValue }
        if text.contains("samsungbrowser/") { return Browser.samsungInternet.rawValue }
        if text.contains("yabrowser/") { return Browser.yandex.rawValue }
        if text.contains("vivaldi/") { return Browser.vivaldi.rawValue }
        if text.contains("firefox/") || text.contains("fxios/") { return Browser.firefox.rawValue }
        if text.contains("crios/") || text.contains("chrome/") || text.contains("chromium/") { return Browser.chrome.rawValue }
        if text.contains("msie ") || text.contains("trident/") { return Browser.internetExplorer.rawValue }
        if text.contains("safari/") || (text.contains("applewebkit/") && (text.contains("iphone") || text.contains("ipad"))) {
            return Browser.safari.rawValue
        }
        return ""
    }
}

extension UserAgent {
    /// The device classes the classifier tells apart.
    public enum DeviceClass: String, CaseIterable, Sendable {
        case desktop, mobile, tablet
    }

    /// The browsers the classifier recognizes, by the names it stores.
    public enum Browser: String, CaseIterable, Sendable {
        case edge = "Edge", opera = "Opera", samsungInternet = "Samsung Internet", yandex = "Yandex", vivaldi = "Vivaldi"
        case firefox = "Firefox", chrome = "Chrome", internetExplorer = "Internet Explorer", safari = "Safari"
    }

    /// The operating systems the classifier recognizes, by the names it stores.
    public enum OperatingSystem: String, CaseIterable, Sendable {
        case windowsPhone = "Windows Phone", windows = "Windows", iOS, android = "Android", chromeOS = "ChromeOS"
        case macOS, linux = "Linux"
    }
}
