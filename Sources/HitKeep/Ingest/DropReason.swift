/// Why a page view that was answered 202 was not stored. Senders get the same answer either way
/// (a beacon cannot act on it, and a bot should learn nothing), but a developer whose test page
/// recorded nothing can read the reason in the response's `HitKeep-Dropped` header, and a site's
/// owner sees how many were dropped (`DroppedPageViews`).
enum DropReason: String, CaseIterable, Sendable {
    /// The Origin is the origin of no registered site (README, "How an Origin maps to a site").
    case unknownOrigin = "unknown-origin"
    /// The user agent is a crawler, monitor, headless browser or HTTP library.
    case bot
    /// The browser said it was loading the page speculatively.
    case prefetch
}
