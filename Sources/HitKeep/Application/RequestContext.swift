import Foundation
import HTTPTypes
import Logging
import PostgresClient

/// What a handler may use besides the request: the database, settings, the clock, path parameters.
public final class RequestContext {
    public let database: Database
    /// Where this request's reads that may lag go (stats, breakdowns): `database`, unless
    /// `readingLagTolerantly` has lent them a standby.
    public internal(set) var reads: Database
    private let lagTolerantReads: LagTolerantReads
    public let configuration: Configuration
    public let logger: Logger
    /// The time the request arrived: one clock reading for the whole request.
    public let now: Date
    /// Path parameters of the matched route, e.g. `site_id`.
    public internal(set) var parameters: [String: String] = [:]
    /// Where page views answered 202 and not stored are counted.
    let droppedPageViews: DroppedPageViews
    /// Headers for whatever response the request ends with, e.g. a renewed session cookie.
    public var responseHeaders = ResponseHeaders()
    /// The API client whose token the request was made with, once the token is known.
    var apiClientID: String?
    /// The pool's rate limiter for API clients; nil outside a worker.
    let rateLimiter: ClientRateLimiter?
    /// The worker's memory of which tokens are members' (`MemberTokens`); nil outside a worker.
    let memberTokens: MemberTokens?

    init(lagTolerantReads: LagTolerantReads, configuration: Configuration, logger: Logger, now: Date,
         rateLimiter: ClientRateLimiter? = nil, memberTokens: MemberTokens? = nil,
         droppedPageViews: DroppedPageViews = DroppedPageViews()) {
        self.database = lagTolerantReads.primary
        self.reads = lagTolerantReads.primary
        self.lagTolerantReads = lagTolerantReads
        self.droppedPageViews = droppedPageViews
        self.configuration = configuration
        self.logger = logger
        self.now = now
        self.rateLimiter = rateLimiter
        self.memberTokens = memberTokens
    }

    /// The principal of the request under `policy`, or the 401/403 problem to answer with.
    public func authenticate(_ request: Request, _ policy: AuthenticationPolicy) throws -> Principal {
        try Authenticator.authenticate(request, self, policy: policy, reading: PrincipalRead<Never>?.none).0
    }

    /// The principal of the request under `policy`, and the rows of `read` as that principal sees
    /// them: for a bearer token, read in the same statement as the token's lookup.
    func authenticate<Row>(_ request: Request, _ policy: AuthenticationPolicy,
                           reading read: PrincipalRead<Row>) throws -> (Principal, [Row]) {
        try Authenticator.authenticate(request, self, policy: policy, reading: read)
    }

    /// Runs `body`, which only reads, with `reads` on a standby when one is configured, up, and
    /// close enough behind; else on the primary (`LagTolerantReads`).
    public func readingLagTolerantly<T>(_ body: () throws -> T) throws -> T {
        try lagTolerantReads.run(self, body)
    }

    /// A path parameter the route pattern guarantees.
    public func parameter(_ name: String) -> String {
        parameters[name] ?? ""
    }
}
