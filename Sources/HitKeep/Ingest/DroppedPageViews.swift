import Foundation
import PostgresClient

/// Page views answered 202 and not stored, counted where a site's owner can see them
/// (`GET /api/sites/{site_id}/dropped`, the dashboard) without a write per dropped page view: a
/// worker counts them in memory and adds its counts to `dropped_page_views` (migrations/0018) in
/// one statement, at most once per `writeInterval`. A flood of bots or forged origins costs the
/// database one small statement a second per worker, whatever its rate.
///
/// The worker writes between requests, after the response has gone out (`Worker`), so a dropped
/// page view is answered as fast as before. Counts in memory are lost if the worker is killed
/// outright (a drain writes them first): these are diagnostics, not page views.
final class DroppedPageViews {
    /// At most one write per worker per interval; the first drop after a quiet interval is written
    /// at once, so a developer's single test page view shows up straight away.
    static let writeInterval: Duration = .seconds(1)
    /// Distinct hosts kept between two writes. Page views from further hosts are counted for the
    /// instance, so that a flood of made-up origins cannot grow a worker's memory.
    static let maximumHosts = 1000
    /// The host that counts for no site: the instance's own counter.
    static let instanceHost = ""

    struct Key: Hashable {
        var host: String
        var reason: DropReason
    }

    /// Page views counted since the last write, by host and reason.
    private(set) var pending: [Key: Int] = [:]
    private var lastWrite: ContinuousClock.Instant?
    /// Whether the last write failed, so that an outage is logged once rather than every second.
    private(set) var isFailing = false

    init() {}

    /// Counts one dropped page view whose Origin (or site) has the host `host`, as sites are
    /// registered (lower case, without `www.` and port).
    func count(_ reason: DropReason, host: String) {
        var key = Key(host: host, reason: reason)
        if pending[key] == nil && pending.count >= Self.maximumHosts {
            key.host = Self.instanceHost
        }
        pending[key, default: 0] += 1
    }

    /// How long until the counts in memory are due to be written; nil when there are none.
    func timeUntilDue(now: ContinuousClock.Instant = .now) -> Duration? {
        guard !pending.isEmpty else { return nil }
        guard let lastWrite else { return .zero }
        return max(.zero, lastWrite + Self.writeInterval - now)
    }

    /// Adds the counts in memory to the table in one statement, each to the site its host most
    /// likely belongs to (`likely_site_of_host`) on that site's calendar day. When the write fails
    /// (the database is away) the counts stay in memory for the next attempt.
    func write(on database: some PostgresQuerying) throws {
        guard !pending.isEmpty else { return }
        lastWrite = .now
        var hosts: [String] = [], reasons: [String] = [], counts: [Int] = []
        for (key, count) in pending {
            hosts.append(key.host)
            reasons.append(key.reason.rawValue)
            counts.append(count)
        }
        do {
            try database.query("""
                INSERT INTO dropped_page_views AS d (site_id, day, reason, page_views)
                SELECT s.id, (now() AT TIME ZONE coalesce(s.timezone, 'UTC'))::date, t.reason, sum(t.page_views)
                FROM unnest(\(hosts)::text[], \(reasons)::text[], \(counts)::bigint[]) AS t (host, reason, page_views)
                LEFT JOIN sites s ON s.id = likely_site_of_host(t.host)
                GROUP BY 1, 2, 3
                ON CONFLICT (site_id, day, reason) DO UPDATE SET page_views = d.page_views + excluded.page_views
                """)
        } catch {
            isFailing = true
            throw error
        }
        isFailing = false
        pending.removeAll(keepingCapacity: true)
    }
}
