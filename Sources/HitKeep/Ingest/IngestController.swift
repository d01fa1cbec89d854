import Foundation
import HTTPTypes

/// Ingestion (docs/API.md §8.1–8.2): the tracker's `POST /ingest` and the server-side
/// `POST /api/ingest/server/pageview`. A 202 is sent only once the event is committed.
enum IngestController {
    /// The tracker sends one small JSON object; anything larger is not a page view.
    static let trackerBodyLimit = 8 * 1024
    /// Server clocks drift; an event further ahead than this is a mistake, not a page view.
    static let allowedClockSkew: TimeInterval = 5 * 60

    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.post, "/ingest", track)
        router.add(.options, "/ingest", preflight)
        router.add(.post, "/api/ingest/server/pageview", serverPageView)
    }

    private static let origin = HTTPField.Name("origin")!
    /// The visitor's country, set by nginx (a visitor's own header of that name is replaced).
    private static let country = HTTPField.Name("x-country")!
    /// Where browsers announce a speculative load.
    private static let purposeHeaders = ["sec-purpose", "purpose", "x-purpose", "x-moz"].map { HTTPField.Name($0)! }

    private static let trackerFields: Set<String> = [
        "path", "referrer", "session_id", "page_id", "lang", "vp_w", "vp_h", "u_src", "u_med", "u_cmp", "u_trm", "u_cnt",
    ]

    @Sendable static func track(_ request: Request, _ context: RequestContext) throws -> Response {
        let origin = request.headers[Self.origin]
        guard let domain = WebURL.originHost(origin), let origin else {
            throw DomainError.invalid("invalid_origin", "the Origin header must be the http(s) origin of a tracked site")
        }
        // Browsers read the answer (errors included) only when it names their origin.
        context.responseHeaders.append(contentsOf: corsHeaders(origin))
        guard request.body.count <= trackerBodyLimit else {
            throw HTTPProblem(.contentTooLarge, code: "payload_too_large",
                              detail: "tracker events are limited to \(trackerBodyLimit) bytes")
        }
        // sendBeacon posts text/plain (no preflight); the body is JSON all the same.
        let body = try JSONRequestBody(request, allowed: trackerFields)
        var view = PageView(siteID: "", occurredAt: context.now,
                            sessionID: try PageViewFields.sessionID(try body.requiredString("session_id", missingCode: "invalid_session_id")),
                            path: try PageViewFields.path(try body.requiredString("path", missingCode: "invalid_path")))
        let referrer = try PageViewFields.referrer(try body.string("referrer") ?? "")
        // Navigation inside the site is not a referral.
        if referrer.host != domain {
            (view.referrerHost, view.referrerURL) = referrer
        }
        if let pageID = try body.string("page_id") { _ = try PageViewFields.pageID(pageID) }
        if let language = try body.string("lang"), !language.isEmpty { view.language = try PageViewFields.language(language) }
        for field in ["vp_w", "vp_h"] {
            if let size = try body.integer(field), !(0...100_000).contains(size) {
                throw DomainError.invalid("invalid_viewport", "\(field) must be from 0 to 100000")
            }
        }
        view.utm = PageView.Campaign(
            source: try PageViewFields.campaign(try body.string("u_src") ?? "", field: "u_src"),
            medium: try PageViewFields.campaign(try body.string("u_med") ?? "", field: "u_med"),
            campaign: try PageViewFields.campaign(try body.string("u_cmp") ?? "", field: "u_cmp"),
            term: try PageViewFields.campaign(try body.string("u_trm") ?? "", field: "u_trm"),
            content: try PageViewFields.campaign(try body.string("u_cnt") ?? "", field: "u_cnt"))
        let userAgent = UserAgent(request.headers[.userAgent])
        if userAgent.isBot { return dropped(.bot, host: domain, context) }
        if isPrefetch(request) { return dropped(.prefetch, host: domain, context) }
        view.apply(userAgent)
        view.country = PageViewFields.country(request.headers[Self.country])
        // One statement, its own transaction: a 202 only ever follows a committed event, and whatever
        // keeps it from committing is a 503 the sender may retry (ProblemMapping).
        guard try EventStore.enqueue(view, forHost: domain, on: context.database) else {
            return dropped(.unknownOrigin, host: domain, context)
        }
        return accepted()
    }

    @Sendable static func preflight(_ request: Request, _ context: RequestContext) throws -> Response {
        let origin = request.headers[Self.origin]
        guard WebURL.originHost(origin) != nil, let origin else {
            throw DomainError.invalid("invalid_origin", "the Origin header must be the http(s) origin of a tracked site")
        }
        var response = Response(status: .noContent, headers: corsHeaders(origin))
        response.headers[.accessControlAllowMethods] = "POST, OPTIONS"
        response.headers[.accessControlAllowHeaders] = "Content-Type"
        response.headers[.accessControlMaxAge] = "86400"
        return response
    }

    private static let serverFields: Set<String> = ["site_id", "url", "user_agent", "referrer", "session_id", "timestamp"]

    @Sendable static func serverPageView(_ request: Request, _ context: RequestContext) throws -> Response {
        let principal = try context.authenticate(request, .sessionOrToken(.ingestWrite))
        let body = try JSONRequestBody(request, allowed: serverFields)
        let siteID = try body.requiredString("site_id", missingCode: "invalid_site_id")
        let urlText = try body.requiredString("url", missingCode: "invalid_url")
        guard urlText.utf8.count <= PageViewFields.maximumURLLength, let url = WebURL(urlText) else {
            throw DomainError.invalid("invalid_url", "url must be an absolute http or https URL")
        }
        let userAgentText = try body.requiredString("user_agent", missingCode: "invalid_user_agent")
        guard userAgentText.utf8.count <= 2048, !TextValidation.containsControlCharacters(userAgentText) else {
            throw DomainError.invalid("invalid_user_agent", "user_agent must be at most 2048 bytes without control characters")
        }
        var occurredAt = context.now
        if let text = try body.string("timestamp") {
            guard let time = Timestamp.parse(text) else {
                throw DomainError.invalid("invalid_timestamp", "timestamp must be an RFC 3339 time such as 2026-11-26T15:04:05Z")
            }
            guard time.timeIntervalSince(context.now) <= allowedClockSkew else {
                throw DomainError.invalid("invalid_timestamp", "timestamp must not be more than 5 minutes in the future")
            }
            guard time.timeIntervalSince1970 >= 0 else {
                throw DomainError.invalid("invalid_timestamp", "timestamp must not be before 1970")
            }
            occurredAt = time
        }
        let sessionID = try body.string("session_id").map { text throws(DomainError) in try PageViewFields.sessionID(text) }
        var view = PageView(siteID: siteID, occurredAt: occurredAt, sessionID: sessionID ?? PageViewFields.randomSessionID(),
                            path: try PageViewFields.path(url.path))
        let referrer = try PageViewFields.referrer(try body.string("referrer") ?? "")
        // Writing a site's data is an admin's right: a viewer may read the numbers, not add to them.
        let site = try SiteStore.site(siteID, visibleTo: principal, requiring: .admin, on: context.database)
        if referrer.host != site.domain {
            (view.referrerHost, view.referrerURL) = referrer
        }
        if url.siteHost != site.domain { view.hostname = url.siteHost }
        view.utm = PageView.Campaign(
            source: try PageViewFields.campaign(url.query["utm_source"] ?? "", field: "utm_source"),
            medium: try PageViewFields.campaign(url.query["utm_medium"] ?? "", field: "utm_medium"),
            campaign: try PageViewFields.campaign(url.query["utm_campaign"] ?? "", field: "utm_campaign"),
            term: try PageViewFields.campaign(url.query["utm_term"] ?? "", field: "utm_term"),
            content: try PageViewFields.campaign(url.query["utm_content"] ?? "", field: "utm_content"))
        let userAgent = UserAgent(userAgentText)
        guard !userAgent.isBot else { return dropped(.bot, host: site.domain, context) }
        view.apply(userAgent)
        try EventStore.enqueue(view, on: context.database)
        return accepted()
    }

    private static func accepted() -> Response {
        .json(.object([("status", .string("accepted"))]), status: .accepted)
    }

    private static let droppedHeader = HTTPField.Name("HitKeep-Dropped")!

    /// The answer to a page view that is not stored, counted for the site of `host`.
    private static func dropped(_ reason: DropReason, host: String, _ context: RequestContext) -> Response {
        context.droppedPageViews.count(reason, host: host)
        var response = accepted()
        response.headers[droppedHeader] = reason.rawValue
        // A page's own script may read it across origins only when named here.
        response.headers[.accessControlExposeHeaders] = "HitKeep-Dropped"
        return response
    }

    private static func corsHeaders(_ origin: String) -> ResponseHeaders {
        var headers = ResponseHeaders()
        headers[.accessControlAllowOrigin] = origin
        headers[.vary] = "Origin"
        return headers
    }

    /// Browsers announce speculative loads; a page that is never shown is not a page view.
    private static func isPrefetch(_ request: Request) -> Bool {
        for name in purposeHeaders {
            if let value = request.headers[name].map(SearchableText.init),
               value.contains("prefetch") || value.contains("prerender") || value.contains("preview") {
                return true
            }
        }
        return false
    }
}
