import Foundation
import PostgresClient

/// Writes page views. Ingestion queues each one (a plain INSERT that waits for nothing) and
/// `fold(siteID:)` or the roll-up process moves the queue into `events`, where the
/// `events_roll_up` trigger folds each batch into the rollups (migrations/0004 and 0008). Batches
/// that are written at once (`hitkeep dev seed`) go straight to `events`.
public enum EventStore {
    /// The columns after `site_id`, in the order of `values(of:)`.
    private static let columns: PostgresQuery = """
        occurred_at, session_id, path, referrer_host, referrer_url, device, browser, os, country, language,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content
        """

    /// Queues one tracker event for the site of the Origin's host `host`: the site registered under
    /// it or, when there is none, under its nearest registered parent domain (`blog.example.com`
    /// counts for `example.com`), recording the host. Returns false when neither exists (nothing is
    /// stored). Looked up in the statement that writes, so the common case, a page view of the
    /// registered domain itself, stays one statement.
    public static func enqueue(_ view: PageView, forHost host: String, on database: some PostgresQuerying) throws -> Bool {
        let rows = try database.query("""
            INSERT INTO event_queue (site_id, \(columns))
            SELECT id, \(values(of: view)) FROM sites WHERE domain = \(host)
            """)
        if rows.affectedRows == 1 { return true }
        let parents = parentDomains(of: host)
        guard !parents.isEmpty else { return false }
        let subdomain = try database.query("""
            INSERT INTO event_queue (site_id, \(columns), hostname)
            SELECT id, \(values(of: view)), \(host) FROM sites WHERE domain = ANY (\(parents))
            ORDER BY length(domain) DESC LIMIT 1
            """)
        return subdomain.affectedRows == 1
    }

    /// Queues one event of a site known to exist.
    public static func enqueue(_ view: PageView, on database: some PostgresQuerying) throws {
        try database.query("""
            INSERT INTO event_queue (site_id, \(columns), hostname)
            VALUES (\(view.siteID), \(values(of: view)), \(view.hostname))
            """)
    }

    /// The domains a host is a subdomain of, nearest first: `a.blog.example.com` →
    /// `blog.example.com`, `example.com`, `com`.
    static func parentDomains(of host: String) -> [String] {
        var parents: [String] = []
        var rest = host[...]
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            if !rest.isEmpty { parents.append(String(rest)) }
        }
        return parents
    }

    /// Moves the site's queued events into the rollups, waiting for a roll-up of that site already
    /// under way; afterwards the rollups hold every event queued before the call.
    public static func fold(siteID: String, on database: some PostgresQuerying) throws {
        try database.query("SELECT fold_queued_events(\(siteID))")
    }

    /// Moves the oldest `limit` queued events of the sites no one else is folding. Returns how many moved.
    public static func foldAll(limit: Int, on database: some PostgresQuerying) throws -> Int {
        try database.query("SELECT fold_queued_events(NULL, \(limit)) AS moved")[0].decode(Int.self, "moved")
    }

    /// Stores page views of known sites in one statement (one trigger run for the whole batch): one
    /// array per column, unnested side by side.
    public static func insert(_ views: [PageView], on database: some PostgresQuerying) throws {
        guard !views.isEmpty else { return }
        var arrays: [[String]] = Array(repeating: [], count: 17)
        for index in arrays.indices { arrays[index].reserveCapacity(views.count) }
        for view in views {
            arrays[0].append(view.siteID)
            for (index, value) in values(of: view).parameters.enumerated() {
                arrays[index + 1].append(value ?? "")
            }
            arrays[16].append(view.hostname)
        }
        var statement: PostgresQuery = "INSERT INTO events (site_id, \(columns), hostname) SELECT * FROM unnest("
        for (index, array) in arrays.enumerated() {
            statement.append(unescaped: index == 0 ? "" : ", ")
            statement.append(binding: array)
            // The second column, occurred_at, is the one that is not text.
            statement.append(unescaped: index == 1 ? "::timestamptz[]" : "::text[]")
        }
        statement.append(unescaped: ")")
        try database.query(statement)
    }

    /// The view's values for `columns`, as parameters.
    private static func values(of view: PageView) -> PostgresQuery {
        """
        \(view.occurredAt), \(view.sessionID), \(view.path), \(view.referrerHost), \(view.referrerURL), \(view.device), \
        \(view.browser), \(view.os), \(view.country), \(view.language), \(view.utm.source), \(view.utm.medium), \
        \(view.utm.campaign), \(view.utm.term), \(view.utm.content)
        """
    }
}
