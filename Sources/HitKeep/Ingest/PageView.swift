import Foundation

/// One page view as it is stored: no IP address, no full user agent, no query string.
/// Empty strings stand for "none" (the `events` columns are NOT NULL DEFAULT '').
public struct PageView: Sendable, Equatable {
    public var siteID: String
    public var occurredAt: Date
    public var sessionID: String
    public var path: String
    public var referrerHost = ""
    public var referrerURL = ""
    public var device = ""
    public var browser = ""
    public var os = ""
    public var country = ""
    public var language = ""
    public var utm = Campaign()
    /// The host the page was viewed on (without `www.`) when it is not the site's own domain: a
    /// subdomain that counts for its registered parent.
    public var hostname = ""

    public init(siteID: String, occurredAt: Date, sessionID: String, path: String) {
        self.siteID = siteID
        self.occurredAt = occurredAt
        self.sessionID = sessionID
        self.path = path
    }

    /// Device class, browser and OS from the classified user agent.
    public mutating func apply(_ userAgent: UserAgent) {
        device = userAgent.device
        browser = userAgent.browser
        os = userAgent.os
    }

    /// The `utm_*` campaign parameters.
    public struct Campaign: Sendable, Equatable {
        public var source = ""
        public var medium = ""
        public var campaign = ""
        public var term = ""
        public var content = ""

        public init(source: String = "", medium: String = "", campaign: String = "", term: String = "", content: String = "") {
            self.source = source
            self.medium = medium
            self.campaign = campaign
            self.term = term
            self.content = content
        }
    }
}
