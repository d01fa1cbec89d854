import Foundation
import Testing
@testable import HitKeep

@Suite struct UserAgentTests {
    @Test(arguments: [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
         "desktop", "Chrome", "Windows"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61",
         "desktop", "Edge", "Windows"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
         "desktop", "Safari", "macOS"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "desktop", "Firefox", "Linux"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
         "mobile", "Safari", "iOS"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
         "mobile", "Chrome", "iOS"),
        ("Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
         "tablet", "Safari", "iOS"),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
         "mobile", "Chrome", "Android"),
        ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
         "tablet", "Chrome", "Android"),
        ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
         "mobile", "Samsung Internet", "Android"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/105.0.0.0",
         "desktop", "Opera", "Windows"),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
         "desktop", "Chrome", "ChromeOS"),
    ])
    func classifiesBrowsers(_ header: String, _ device: String, _ browser: String, _ os: String) {
        #expect(UserAgent(header) == UserAgent(device: device, browser: browser, os: os, isBot: false))
    }

    @Test(arguments: [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "curl/8.4.0", "Wget/1.21.4", "python-requests/2.31.0", "Go-http-client/1.1",
        "Mozilla/5.0 (compatible; YandexBot/3.0)", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    ])
    func recognisesBots(_ header: String) {
        #expect(UserAgent(header).isBot)
    }

    @Test func missingHeaderIsUnknownNotABot() {
        #expect(UserAgent(nil) == UserAgent(device: "", browser: "", os: "", isBot: false))
    }
}

@Suite struct PageViewFieldsTests {
    @Test func pathsLoseQueryAndFragment() throws {
        #expect(try PageViewFields.path("/pricing?plan=pro#faq") == "/pricing")
        #expect(try PageViewFields.path("/") == "/")
    }

    @Test(arguments: ["", "pricing", "https://example.com/", "/a\u{1}b", "/" + String(repeating: "x", count: 2048)])
    func refusesBadPaths(_ text: String) {
        #expect(throws: DomainError.self) { try PageViewFields.path(text) }
    }

    @Test func pathLimitIsInclusive() throws {
        let longest = "/" + String(repeating: "x", count: 2047)
        #expect(try PageViewFields.path(longest) == longest)
    }

    @Test(arguments: ["", "has space", "a/b", String(repeating: "a", count: 65), "ünïcode", "semi;colon"])
    func refusesBadSessionIDs(_ text: String) {
        #expect(throws: DomainError.self) { try PageViewFields.sessionID(text) }
    }

    @Test func acceptsTokenSessionIDs() throws {
        #expect(try PageViewFields.sessionID("Ab3_x-9") == "Ab3_x-9")
        #expect(try PageViewFields.sessionID(String(repeating: "a", count: 64)).count == 64)
        #expect(try PageViewFields.sessionID(PageViewFields.randomSessionID()).hasPrefix("s-"))
    }

    @Test func referrersKeepHostAndPathOnly() throws {
        let referrer = try PageViewFields.referrer("https://WWW.Google.com:443/search?q=secret#x")
        #expect(referrer.host == "google.com")
        #expect(referrer.url == "https://www.google.com/search")
        #expect(try PageViewFields.referrer("") == ("", ""))
    }

    @Test(arguments: ["not a url", "ftp://example.com/", "javascript:alert(1)", "//example.com/x", "https://"])
    func refusesBadReferrers(_ text: String) {
        #expect(throws: DomainError.self) { try PageViewFields.referrer(text) }
    }

    @Test func languagesAreNormalised() throws {
        #expect(try PageViewFields.language("en-us") == "en-US")
        #expect(try PageViewFields.language("DE") == "de")
        #expect(try PageViewFields.language("zh-hant-tw") == "zh-hant-TW")
        #expect(throws: DomainError.self) { try PageViewFields.language("english please") }
        #expect(throws: DomainError.self) { try PageViewFields.language("e") }
    }

    @Test func countriesComeOnlyAsTwoLetters() {
        #expect(PageViewFields.country("de") == "DE")
        #expect(PageViewFields.country("XX") == "")
        #expect(PageViewFields.country("DEU") == "")
        #expect(PageViewFields.country(nil) == "")
        #expect(PageViewFields.country("1A") == "")
    }

    @Test func campaignsAreBounded() throws {
        #expect(try PageViewFields.campaign("  newsletter ", field: "u_src") == "newsletter")
        #expect(throws: DomainError.self) { try PageViewFields.campaign(String(repeating: "x", count: 257), field: "u_src") }
    }
}

@Suite struct WebURLTests {
    @Test func originHostDropsSchemePortAndWWW() {
        #expect(WebURL.originHost("https://www.Example.com:8443") == "example.com")
        #expect(WebURL.originHost("http://shop.example.com") == "shop.example.com")
    }

    @Test(arguments: [nil, "", "null", "example.com", "file:///etc/passwd", "https://example.com/path", "https://example.com?x", "chrome-extension://abc"])
    func refusesOriginsThatAreNot(_ origin: String?) {
        #expect(WebURL.originHost(origin) == nil)
    }

    @Test(arguments: ["https://www.Example.com:8443", "http://shop.example.com", "https://EXAMPLE.com/", "https://www.",
                      "https://a..b", "https://-a.b", "https://a.b:", "https://a.b:70000", "https://a.b:8080/x", "https://www",
                      "https://xn--bcher-kva.example", "https://127.0.0.1:8080", "https://[::1]", "https://a_b.example"])
    func theQuickOriginReadingAgreesWithURLComponents(_ origin: String) {
        let slow = WebURL(origin).flatMap { url in url.path == "/" || url.path.isEmpty ? url.siteHost : nil }
        if let quick = WebURL.plainOriginHost(origin) {
            #expect(quick == slow)
        }
        #expect(WebURL.originHost(origin) == slow)
    }

    @Test func campaignParametersComeFromTheQuery() throws {
        let url = try #require(WebURL("https://example.com/landing?utm_source=news%20letter&utm_medium=email&x=1"))
        #expect(url.path == "/landing")
        #expect(url.query["utm_source"] == "news letter")
        #expect(url.query["utm_medium"] == "email")
    }
}
