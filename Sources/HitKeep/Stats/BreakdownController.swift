import Foundation
import HTTPTypes
import PostgresClient
import TextFormats

/// `GET /api/sites/{site_id}/stats/breakdown` (docs/API.md §10.5): every value of one dimension
/// with its numbers, a page at a time with a cursor, or all of them as CSV.
enum BreakdownController {
    static func addRoutes(to router: inout Router<Endpoint>) {
        router.add(.get, "/api/sites/{site_id}/stats/breakdown", query: BreakdownRequest.parameters, show)
    }

    static let csvHeader = ["name", "pageviews", "visitors", "bounce_rate", "avg_session_duration"]

    @Sendable static func show(_ request: Request, _ context: RequestContext) throws -> Response {
        let site = try SiteStore.site(context.parameter("site_id"), for: request, .sessionOrToken(.statsRead), context: context)
        let query = try BreakdownRequest(request.query, accept: request.headers[.accept])
        return try answer(site: site, query: query, context: context) { asked, source in
            switch query.format {
            case .json:
                return .json(try page(of: asked.question, after: asked.position, size: query.pageSize, from: source, site: site,
                                      timezone: asked.timezone, fingerprint: asked.fingerprint))
            case .csv:
                return try csv(of: asked.question, from: source, site: site, timezone: asked.timezone, database: context.reads)
            }
        }
    }

    /// A page of the answer as JSON, whatever `query.format` says: the result of the MCP tool
    /// `get_breakdown` (docs/API.md §12), the body `show` answers the same question with.
    static func page(site: Site, query: BreakdownRequest, context: RequestContext) throws -> JSON {
        try answer(site: site, query: query, context: context) { asked, source in
            try page(of: asked.question, after: asked.position, size: query.pageSize, from: source, site: site,
                     timezone: asked.timezone, fingerprint: asked.fingerprint)
        }
    }

    /// A request's question resolved for its site: what to count, after which row, in which zone,
    /// and the fingerprint its cursors carry.
    private struct Asked {
        var question: BreakdownQuestion
        var position: BreakdownPosition?
        var timezone: String
        var fingerprint: [UInt8]
    }

    /// Resolves the question for a site the principal may read, and calls `body` with it and the
    /// source that answers it, within the answer's snapshot.
    private static func answer<T>(site: Site, query: BreakdownRequest, context: RequestContext,
                                  _ body: (Asked, any BreakdownSource) throws -> T) throws -> T {
        let timezone = query.stats.timezone ?? site.timezone
        let fingerprint = BreakdownCursor.fingerprint(siteID: site.id, request: query, timezone: timezone)
        // A later page counts the range of the first, which its cursor carries: a default range
        // that has moved on since (`to`, the end of the current hour) changes no page of a listing.
        let range: StatsRange
        var position: BreakdownPosition?
        if let text = query.cursor {
            let cursor = try BreakdownCursor(decoding: text, expecting: fingerprint)
            range = cursor.range
            position = cursor.position
        } else {
            range = try StatsController.resolve(query.stats, timezone: timezone, context: context).range
        }
        let question = BreakdownQuestion(siteID: site.id, dimension: query.dimension, range: range,
                                         filters: StatsFilter.resolved(query.stats.filters, siteDomain: site.domain),
                                         orderBy: query.orderBy, order: query.order,
                                         emptyName: query.dimension.emptyName(siteDomain: site.domain))
        let asked = Asked(question: question, position: position, timezone: timezone, fingerprint: fingerprint)

        // Every event acknowledged before this request is counted, as for the stats (§10.3).
        try EventStore.fold(siteID: site.id, on: context.database)
        return try context.readingLagTolerantly {
            // Without jit, as the stats (`StatsController.respond`): the estimates of the raw part
            // beside the rollups run high, and compiling a plan cost 48 ms of a 57 ms breakdown.
            try context.reads.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL jit = off") {
                guard let reduction = try Self.withoutRedundantFilters(question, database: context.reads) else {
                    return try body(asked, NoMatchingPageViews())
                }
                var asked = asked
                asked.question = reduction.question
                return try body(asked, try Self.source(for: reduction.question, selective: reduction.isSelective,
                                                       database: context.reads))
            }
        }
    }

    /// `question` with the filters that select its range's page views differently (`RedundantFilters`),
    /// when it has several that the profiles' rollups do not answer together, and whether they are
    /// selective; nil when no page view matches them all.
    static func withoutRedundantFilters(_ question: BreakdownQuestion,
                                        database: any PostgresQuerying) throws -> (question: BreakdownQuestion, isSelective: Bool)? {
        guard question.filters.count > 1,
              !(VisitorProfiles.cover(question.filters) && VisitorProfiles.dimensions.contains(question.dimension)) else {
            return (question, false)
        }
        guard let reduction = try RedundantFilters.reduced(question.filters, in: question.range, siteID: question.siteID,
                                                           on: database) else { return nil }
        var reduced = question
        reduced.filters = reduction.filters
        return (reduced, reduction.isSelective)
    }

    /// The source that answers `question`: the rollups when they can (a dimension counted per page
    /// view without a filter, the partial quarter hours at the range's ends corrected from the raw
    /// events, or, for the visitor profiles' dimensions with quarter-hour ends, under filters on
    /// those alone; or unfiltered landing and exit pages, whose partial hours at the ends are read
    /// from the raw events), else the raw events, which answer every question whose
    /// range they still hold (`RawEventHorizon`): for any other dimension under one filter,
    /// only outside the whole days and hours added up (`FilteredBreakdownPeriods`).
    /// `selective`: whether the raw events that match the filters are few enough to be found through
    /// the index of values (`RedundantFilters.Reduction`).
    static func source(for question: BreakdownQuestion, selective: Bool = false,
                       database: any PostgresQuerying) throws -> any BreakdownSource {
        if let rollups = try RollupBreakdown.answering(question, database: database) {
            return rollups
        }
        if SessionEndBreakdown.canAnswer(question) {
            // The added-up days and hours while every raw event of the range is kept (what they do
            // not hold is read from those), else the session-hours, which retention keeps.
            if try RawEventHorizon.removed(before: question.range, siteID: question.siteID, on: database) == nil,
               let periods = try FilteredBreakdownPeriods.answering(question, database: database) {
                return periods
            }
            if !question.range.isWholeHours {
                try RawEventHorizon.check(question.range, siteID: question.siteID, on: database)
            }
            return SessionEndBreakdown(database: database)
        }
        try RawEventHorizon.check(question.range, siteID: question.siteID, on: database)
        if let periods = try FilteredBreakdownPeriods.answering(question, database: database) {
            return periods
        }
        return RawEventBreakdown(database: database, throughValueIndex: selective)
    }

    static func page(of question: BreakdownQuestion, after position: BreakdownPosition?, size: Int, from source: any BreakdownSource,
                     site: Site, timezone: String, fingerprint: [UInt8]) throws -> JSON {
        // One row more than the page tells whether another page follows.
        let rows = try source.rows(question, after: position, limit: size + 1)
        let shown = rows.prefix(size)
        var next = JSON.null
        if rows.count > size, let last = shown.last {
            next = .string(BreakdownCursor(fingerprint: fingerprint, range: question.range,
                                           position: last.position(question.orderBy)).encoded)
        }
        return .object([
            ("site_id", .string(site.id)), ("from", .time(question.range.from)), ("to", .time(question.range.to)),
            ("timezone", .string(timezone)), ("dimension", .string(question.dimension.breakdownName)),
            ("order_by", .string(question.orderBy.rawValue)), ("order", .string(question.order.rawValue)),
            ("rows", .array(shown.map { row in
                .object([("name", .string(question.name(of: row.value))), ("pageviews", .int(row.pageviews)), ("visitors", .int(row.visitors)),
                         ("bounce_rate", .number(row.bounceRate)),
                         ("avg_session_duration", .number(row.averageSessionDuration))])
            })),
            ("next_cursor", next),
        ])
    }

    /// Every row, numbers written as the JSON answer writes them, named for the site, the dimension
    /// and the range's first and last day in `timezone`.
    static func csv(of question: BreakdownQuestion, from source: any BreakdownSource, site: Site, timezone: String,
                    database: any PostgresQuerying) throws -> Response {
        let rows = try source.rows(question, after: nil, limit: nil)
        var body: [UInt8] = []
        body.reserveCapacity(64 * (rows.count + 1))
        body.appendCSVRecord(csvHeader)
        for row in rows {
            body.appendCSVRecord([question.name(of: row.value), String(row.pageviews), String(row.visitors), JSON.format(row.bounceRate),
                                  JSON.format(row.averageSessionDuration)])
        }
        let days = try database.query("""
            SELECT (\(question.range.from)::timestamptz AT TIME ZONE \(timezone))::date::text AS first,
                   ((\(question.range.to)::timestamptz - interval '1 microsecond') AT TIME ZONE \(timezone))::date::text AS last
            """)[0]
        // Domains are letters, digits, dots and hyphens (`DomainName`), dates digits and hyphens:
        // nothing in the name needs quoting or escaping.
        let filename = "\(site.domain)-\(question.dimension.breakdownName)-\(try days.decode(String.self, "first"))-\(try days.decode(String.self, "last")).csv"
        var headers = ResponseHeaders()
        headers.append(csvContentType)
        headers.append(HTTPField(name: .contentDisposition, value: "attachment; filename=\"\(filename)\""))
        return Response(status: .ok, headers: headers, body: body)
    }

    private static let csvContentType = HTTPField(name: .contentType, value: "text/csv; charset=utf-8")
}
