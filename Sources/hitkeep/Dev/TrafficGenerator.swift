import Foundation
import HitKeep

/// Synthetic but plausible traffic for one site: sessions of a few pages with a daily rhythm,
/// long-tailed popularity of pages, referrers, devices with matching browsers and systems,
/// countries with their languages, and some campaign traffic. Reproducible from a seed.
struct TrafficGenerator {
    private var random: SplitMix64
    let siteID: String
    let start: Date
    let end: Date

    init(siteID: String, start: Date, end: Date, seed: UInt64) {
        self.siteID = siteID
        self.start = start
        self.end = end
        self.random = SplitMix64(seed: seed)
    }

    static let paths: [String] = ["/", "/pricing", "/features", "/docs", "/docs/getting-started", "/docs/api",
        "/docs/tracker", "/docs/self-hosting", "/blog", "/about", "/contact", "/signup", "/login", "/changelog",
        "/privacy", "/terms", "/integrations", "/customers", "/careers", "/security"]
        + (1...40).map { "/blog/post-\($0)" }

    static let referrers: [(weight: Double, host: String)] = [
        (45, ""), (22, "google.com"), (5, "duckduckgo.com"), (4, "bing.com"), (5, "news.ycombinator.com"),
        (4, "reddit.com"), (4, "github.com"), (3, "x.com"), (3, "linkedin.com"), (2, "t.co"), (2, "facebook.com"),
        (1, "lobste.rs"),
    ]

    static let countries: [(weight: Double, code: String, language: String)] = [
        (28, "US", "en-US"), (10, "DE", "de-DE"), (8, "GB", "en-GB"), (6, "FR", "fr-FR"), (6, "IN", "en-IN"),
        (5, "CA", "en-CA"), (4, "NL", "nl-NL"), (4, "BR", "pt-BR"), (3, "JP", "ja-JP"), (3, "ES", "es-ES"),
        (3, "SE", "sv-SE"), (3, "AU", "en-AU"), (2, "PL", "pl-PL"), (2, "IT", "it-IT"), (2, "CH", "de-CH"),
        (2, "KR", "ko-KR"), (2, "MX", "es-MX"), (2, "AT", "de-AT"), (1, "NO", "nb-NO"), (4, "", ""),
    ]

    static let platforms: [(weight: Double, device: String, browser: String, os: String)] = [
        (24, "desktop", "Chrome", "Windows"), (9, "desktop", "Edge", "Windows"), (6, "desktop", "Firefox", "Windows"),
        (8, "desktop", "Safari", "macOS"), (6, "desktop", "Chrome", "macOS"), (2, "desktop", "Firefox", "macOS"),
        (3, "desktop", "Firefox", "Linux"), (2, "desktop", "Chrome", "Linux"), (1, "desktop", "Chrome", "ChromeOS"),
        (17, "mobile", "Safari", "iOS"), (3, "mobile", "Chrome", "iOS"), (14, "mobile", "Chrome", "Android"),
        (3, "mobile", "Samsung Internet", "Android"), (1, "mobile", "Firefox", "Android"),
        (3, "tablet", "Safari", "iOS"), (2, "tablet", "Chrome", "Android"),
    ]

    static let campaigns: [(weight: Double, source: String, medium: String, campaign: String)] = [
        (5, "newsletter", "email", "november-digest"), (3, "newsletter", "email", "product-update"),
        (3, "twitter", "social", "launch-week"), (2, "google", "cpc", "brand"), (2, "google", "cpc", "competitors"),
        (1, "partner", "referral", "integrations"),
    ]

    /// Sessions adding up to exactly `events` page views, as (start, pages), in order of start:
    /// written in that order, each batch covers a short stretch of time, as live traffic does.
    mutating func plan(events: Int) -> [(start: Date, pages: Int)] {
        var counts: [Int] = []
        var total = 0
        while total < events {
            let pages = min(max(1, min(30, geometricPageCount())), events - total)
            counts.append(pages)
            total += pages
        }
        var starts = counts.map { _ in sessionStart() }
        starts.sort()
        return zip(starts, counts).map { ($0, $1) }
    }

    /// The page views of one session: `pages` of them from `start` on, moved earlier if they would
    /// reach past `end`.
    mutating func session(start: Date, pages: Int) -> [PageView] {
        let sessionID = randomToken(22)
        let referrer = pick(Self.referrers, \.weight)
        let country = pick(Self.countries, \.weight)
        let platform = pick(Self.platforms, \.weight)
        let campaign = random.unit() < 0.12 ? pick(Self.campaigns, \.weight) : nil
        // Reading time between pages: mostly under a minute, sometimes several.
        var offsets: [Double] = [0]
        for _ in 1..<max(pages, 1) {
            offsets.append(offsets[offsets.count - 1] + 5 + -log(1 - random.unit()) * 55)
        }
        let first = min(start, end.addingTimeInterval(-offsets[offsets.count - 1] - 1))
        var views: [PageView] = []
        var path = landingPath()
        for (index, offset) in offsets.prefix(pages).enumerated() {
            var view = PageView(siteID: siteID, occurredAt: first.addingTimeInterval(offset), sessionID: sessionID, path: path)
            if index == 0, !referrer.host.isEmpty {
                view.referrerHost = referrer.host
                view.referrerURL = "https://\(referrer.host)/"
            }
            view.device = platform.device
            view.browser = platform.browser
            view.os = platform.os
            view.country = country.code
            view.language = country.language
            if let campaign {
                view.utm = PageView.Campaign(source: campaign.source, medium: campaign.medium, campaign: campaign.campaign)
            }
            views.append(view)
            path = nextPath()
        }
        return views
    }

    /// Uniform over the days, shaped by a daily curve peaking in the (UTC) afternoon.
    private mutating func sessionStart() -> Date {
        let span = end.timeIntervalSince(start)
        while true {
            let offset = random.unit() * span
            let hour = (start.timeIntervalSince1970 + offset).truncatingRemainder(dividingBy: 86_400) / 3600
            let weight = 0.35 + 0.65 * (0.5 + 0.5 * cos((hour - 15) / 24 * 2 * .pi))
            if random.unit() < weight { return start.addingTimeInterval(offset) }
        }
    }

    /// 40 % bounce; the rest read on with probability 0.62 per page (mean ≈ 3.3 pages).
    private mutating func geometricPageCount() -> Int {
        if random.unit() < 0.4 { return 1 }
        var pages = 2
        while random.unit() < 0.62 { pages += 1 }
        return pages
    }

    private mutating func landingPath() -> String {
        random.unit() < 0.35 ? "/" : zipfPath()
    }

    private mutating func nextPath() -> String {
        zipfPath()
    }

    /// Popularity falls off as 1/rank.
    private mutating func zipfPath() -> String {
        let total = Self.harmonic
        var target = random.unit() * total
        for (rank, path) in Self.paths.enumerated() {
            target -= 1 / Double(rank + 1)
            if target <= 0 { return path }
        }
        return Self.paths[Self.paths.count - 1]
    }

    private static let harmonic = (1...paths.count).reduce(0.0) { $0 + 1 / Double($1) }

    private mutating func pick<T>(_ items: [T], _ weight: KeyPath<T, Double>) -> T {
        let total = items.reduce(0) { $0 + $1[keyPath: weight] }
        var target = random.unit() * total
        for item in items {
            target -= item[keyPath: weight]
            if target <= 0 { return item }
        }
        return items[items.count - 1]
    }

    private mutating func randomToken(_ length: Int) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        return String(decoding: (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }, as: UTF8.self)
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64): the same seed gives the
/// same traffic on every machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }
}
