import Foundation
import HTTPTypes
import Logging
import PostgresClient

/// What a handler may use besides the request: the database, settings, the clock, path parameters.
public final class RequestContext {
    public let database: Database
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

    init(database: Database, configuration: Configuration, logger: Logger, now: Date,
         droppedPageViews: DroppedPageViews = DroppedPageViews()) {
        self.database = database
        self.droppedPageViews = droppedPageViews
        self.configuration = configuration
        self.logger = logger
        self.now = now
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

    /// A path parameter the route pattern guarantees.
    public func parameter(_ name: String) -> String {
        parameters[name] ?? ""
    }
}
