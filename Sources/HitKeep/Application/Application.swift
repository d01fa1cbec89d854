import Foundation
import HTTPTypes
import Logging
import PostgresClient
import Scoreboard

public typealias RouteHandler = @Sendable (Request, RequestContext) throws -> Response

/// The HitKeep API: routes a request to its handler and turns every outcome, errors included, into
/// the response the contract promises.
public final class Application {
    let router: Router<Endpoint>
    public let database: Database
    private let lagTolerantReads: LagTolerantReads
    public let configuration: Configuration
    let logger: Logger
    /// Page views this worker answered 202 and did not store, not yet written (`DroppedPageViews`).
    let droppedPageViews = DroppedPageViews()
    private let memberTokens = MemberTokens()
    /// The route of the last request, a position in `router.routes`; nil when it matched none.
    /// The worker counts requests by it.
    private(set) var lastRoute: Int?
    /// Rate limits and usage counts per API client, in the pool's shared memory (`share(_:)`).
    private var rateLimiter: ClientRateLimiter?
    private var usage: ClientUsageRecorder?
    /// Set for a worker that no roll-up process drains for (started without `hitkeep serve`).
    private var drainsUsageItself = false
    private var nextUsageDrain = Date.distantPast

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.database = Database(configuration: configuration)
        self.lagTolerantReads = LagTolerantReads(primary: database, configuration: configuration, logger: logger)
        var router = Router<Endpoint>()
        Self.addRoutes(to: &router)
        self.router = router
    }

    /// Keeps API clients' rate limits and usage in `board`, the pool's scoreboard. A worker whose
    /// board is its own (no `hitkeep serve`, so no roll-up process) drains its usage counts itself.
    public func share(_ board: Scoreboard, drainsUsageItself: Bool) {
        rateLimiter = ClientRateLimiter(board: board)
        usage = ClientUsageRecorder(board: board, routes: router.routes.map(\.pattern))
        self.drainsUsageItself = drainsUsageItself
    }

    public func respond(to request: Request) -> Response {
        let started = ContinuousClock.now
        let (dispatched, clientID, now) = dispatch(request)
        var response = dispatched
        if let clientID, let usage {
            usage.count(clientID: clientID, route: lastRoute, status: response.status.code, at: now)
            if drainsUsageItself && now >= nextUsageDrain {
                nextUsageDrain = now.addingTimeInterval(1)
                do {
                    try ClientUsageStore.drain(usage.table, now: now, on: database)
                } catch {
                    logger.warning("usage counts not stored; kept for the next try", metadata: ["error": .string("\(error)")])
                }
            }
        }
        if let cacheControl = response.headers[.cacheControl] {
            // Set back as read: fields a handler repeated leave as one, joined, as they always have.
            response.headers[.cacheControl] = cacheControl
        } else {
            response.headers.append(Self.noStore)
        }
        response.headers.set(Self.noSniff)
        let elapsed = ContinuousClock.now - started
        let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        logger.info(Logger.Message(stringLiteral: RequestLogMessage.make(
            method: request.method.rawValue, path: request.path, status: response.status.code,
            microseconds: microseconds, id: request.id)))
        return response
    }

    /// Writes the dropped page views counted in memory. A failure keeps them for the next attempt
    /// and is logged once per outage.
    func writeDroppedPageViews() {
        let wasFailing = droppedPageViews.isFailing
        do {
            try droppedPageViews.write(on: database)
            if wasFailing { logger.info("dropped page views written again") }
        } catch {
            if !wasFailing { logger.warning("writing dropped page views failed; retrying", metadata: ["error": "\(error)"]) }
        }
    }

    // Built once: a field made per request would have its value checked every time.
    private static let noStore = HTTPField(name: .cacheControl, value: "no-store")
    private static let noSniff = HTTPField(name: .xContentTypeOptions, value: "nosniff")

    /// The response, the API client whose token made the request (if one did), and the request's clock.
    private func dispatch(_ request: Request) -> (Response, String?, Date) {
        lastRoute = nil
        let now = Date()
        if let rejection = request.rejection { return (rejection.response, nil, now) }
        if request.bodyExceededLimit {
            return (HTTPProblem(.contentTooLarge, code: "payload_too_large",
                                detail: "request bodies are limited to \(configuration.bodyLimit) bytes").response, nil, now)
        }
        switch router.resolve(request.method, path: request.path) {
        case .notFound:
            return (HTTPProblem(.notFound, code: "not_found", detail: "no endpoint at " + request.path).response, nil, now)
        case .methodNotAllowed(let allowed):
            var headers = ResponseHeaders()
            headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            return (HTTPProblem(.methodNotAllowed, code: "method_not_allowed",
                                detail: "\(request.method.rawValue) is not allowed here", headers: headers).response, nil, now)
        case .matched(let endpoint, let parameters, let route):
            lastRoute = route
            if let refusal = endpoint.unknownParameter(in: request.query) {
                return (HTTPProblem(refusal).response, nil, now)
            }
            let context = RequestContext(lagTolerantReads: lagTolerantReads, configuration: configuration, logger: logger,
                                         now: now, rateLimiter: rateLimiter, memberTokens: memberTokens,
                                         droppedPageViews: droppedPageViews)
            return (run(endpoint.handle, parameters: parameters, for: request, in: context), context.apiClientID, now)
        }
    }

    private func run(_ handler: RouteHandler, parameters: [String: String], for request: Request,
                     in context: RequestContext) -> Response {
        context.parameters = parameters
        // A connection that went stale while idle (the database restarted) fails on its first
        // statement. Nothing reached the database then, so the request is re-run once on a new one.
        let hadConnection = database.hasConnection
        for attempt in 1...2 {
            database.beginRequest()
            context.responseHeaders = ResponseHeaders()
            defer { database.endRequest() }
            do {
                return with(try handler(request, context), extraHeaders: context.responseHeaders)
            } catch let error as PostgresError
                        where error.isUnavailable && attempt == 1 && hadConnection && database.statementsThisRequest == 0 {
                database.discardConnection()
                continue
            } catch {
                // Headers the handler set before failing (CORS on /ingest, a renewed cookie) go
                // with whatever answer the failure gets.
                return with(response(for: error, request: request), extraHeaders: context.responseHeaders)
            }
        }
        return HTTPProblem.databaseUnavailable().response
    }

    /// The answer to a failed handler: its problem (`ProblemMapping`), logged when the database is
    /// unreachable; 500 (logged, with the request id) for anything else.
    private func response(for error: any Error, request: Request) -> Response {
        if let problem = ProblemMapping.problem(for: error) {
            if let error = error as? PostgresError, error.isUnavailable {
                logger.warning("database unavailable", metadata: ["id": .string(request.id), "error": .string(error.message)])
            } else if let behind = error as? SchemaBehind {
                logger.error("database not migrated", metadata: ["id": .string(request.id), "error": .string(behind.description)])
            }
            return problem.response
        }
        logger.error("internal error", metadata: ["id": .string(request.id), "error": .string("\(error)")])
        return HTTPProblem(.internalServerError, code: "internal_error",
                           detail: "unexpected error; request id \(request.id)").response
    }

    private func with(_ response: Response, extraHeaders: ResponseHeaders) -> Response {
        guard !extraHeaders.isEmpty else { return response }
        var response = response
        response.headers.append(contentsOf: extraHeaders)
        return response
    }
}
