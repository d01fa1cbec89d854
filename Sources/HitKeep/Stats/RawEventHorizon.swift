import Foundation
import PostgresClient

/// The earliest time from which a site's raw events are complete (`sites.raw_events_since`,
/// migrations/0019): before it, retention may have removed them. A question answered from raw
/// events over a range starting earlier would count only what is left, so it is refused instead,
/// with the first time it could start from; the rollups answer the rest as before.
enum RawEventHorizon {
    static let refusalCode = "raw_events_removed"

    /// Throws 422 `raw_events_removed` when `range` starts before the site's horizon. Read in the
    /// request's snapshot: the roll-up process commits a new horizon before it removes any event,
    /// so a snapshot that still sees the old horizon still sees every event after it.
    static func check(_ range: StatsRange, siteID: String, on database: some PostgresQuerying) throws {
        guard let since = try removed(before: range, siteID: siteID, on: database) else { return }
        var refusal = DomainError(.unanswerable, code: refusalCode,
                                  detail: "this question is answered from raw page views, which are kept for a limited time and are gone before \(Timestamp.format(since)); ask about a range from then on, or on whole quarter hours with at most one filter or with filters on device, browser, os, country and language only")
        refusal.members["available_from"] = Timestamp.format(since)
        throw refusal
    }

    /// The site's horizon when `range` starts before it (some of its raw events may be gone), else nil.
    static func removed(before range: StatsRange, siteID: String, on database: some PostgresQuerying) throws -> Date? {
        try database.query("""
            SELECT raw_events_since FROM sites WHERE id = \(siteID) AND raw_events_since > \(range.from)
            """).first?.decode(Date.self, "raw_events_since")
    }
}
