import Foundation
import PostgresClient

/// Writes page views. Each statement is one INSERT into `events`; the `events_roll_up` trigger
/// (migrations/0004) folds it into the rollups inside the same statement, so whoever writes events
/// (the tracker, the server-side API, `hitkeep dev seed`) keeps the rollups exact.
public enum EventStore {
    /// The columns after `site_id`, in the order of the arrays below.
    private static let columns = """
        occurred_at, session_id, path, referrer_host, referrer_url, device, browser, os, country, language,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content
        """

    /// Stores one tracker event for the site registered under `domain`, looked up in the same
    /// statement. Returns false when no site has that domain (nothing is stored).
    public static func insert(_ view: PageView, forDomain domain: String, on database: some PostgresQuerying) throws -> Bool {
        let rows = try database.query("""
            INSERT INTO events (site_id, \(columns))
            SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 FROM sites WHERE domain = $1
            """, [domain] + values(of: view))
        return rows.affectedRows == 1
    }

    /// Stores page views of known sites in one statement (one trigger run for the whole batch).
    public static func insert(_ views: [PageView], on database: some PostgresQuerying) throws {
        guard !views.isEmpty else { return }
        var arrays: [[String]] = Array(repeating: [], count: 16)
        for index in arrays.indices { arrays[index].reserveCapacity(views.count) }
        for view in views {
            arrays[0].append(view.siteID)
            for (index, value) in values(of: view).enumerated() {
                arrays[index + 1].append(value.postgresText)
            }
        }
        try database.query("""
            INSERT INTO events (site_id, \(columns))
            SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                                 $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                                 $13::text[], $14::text[], $15::text[], $16::text[])
            """, arrays)
    }

    private static func values(of view: PageView) -> [any PostgresEncodable] {
        [view.occurredAt, view.sessionID, view.path, view.referrerHost, view.referrerURL, view.device, view.browser,
         view.os, view.country, view.language, view.utm.source, view.utm.medium, view.utm.campaign, view.utm.term,
         view.utm.content]
    }
}
