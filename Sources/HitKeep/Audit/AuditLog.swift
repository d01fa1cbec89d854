import Foundation
import HTTPTypes
import PostgresClient

/// The security log of docs/API.md §9, written in the same transaction as the change it records.
enum AuditLog {
    struct Origin {
        var ip: String?
        var userAgent: String?

        init(ip: String?, userAgent: String?) {
            self.ip = ip
            self.userAgent = userAgent.map { String($0.prefix(512)) }
        }

        init(_ request: Request) {
            self.init(ip: request.remoteAddress, userAgent: request.headers[.userAgent])
        }

        /// A change made from the command line on the server itself.
        static let commandLine = Origin(ip: nil, userAgent: "hitkeep-cli")
    }

    /// Who makes a change, from where and when: what an entry records besides the change itself,
    /// alike for a request and for the command line.
    struct Author {
        /// `user` or `api_client`, with an id; a nil id is a person not known to be anyone in
        /// particular (an operator at the command line).
        var actor: (type: String, id: String?)
        /// The person the change is made for: the signed-in user, a token's owner, or the account
        /// the command line names; nil for a site's API client (it acts for no person) and for an
        /// operator changing a site's clients at the command line.
        var userID: String?
        var origin: Origin
        var now: Date

        init(_ principal: Principal, _ request: Request, _ context: RequestContext) {
            self.init(actor: principal.actor, userID: principal.userID, origin: Origin(request), now: context.now)
        }

        init(actor: (type: String, id: String?), userID: String?, origin: Origin, now: Date) {
            self.actor = actor
            self.userID = userID
            self.origin = origin
            self.now = now
        }

        /// The person the change is made for, where there must be one (a change to an account, a
        /// new site); a site's API client, which acts for no person, is refused.
        func person() throws(DomainError) -> String {
            guard let userID else { throw .forbidden("a site's API client acts for no person") }
            return userID
        }

        /// An operator at the server's command line, acting for the account `userID`.
        static func commandLine(for userID: String?, at now: Date) -> Author {
            Author(actor: ("user", nil), userID: userID, origin: .commandLine, now: now)
        }
    }

    /// An entry in the author's own log.
    static func record(_ action: String, by author: Author, target: String? = nil, detail: String? = nil,
                       on database: some PostgresQuerying) throws {
        try record(action, for: try author.person(), actor: author.actor, target: target, detail: detail, from: author.origin,
                   at: author.now, on: database)
    }

    static func recordSiteChange(_ action: String, site siteID: String, by author: Author, target: String? = nil,
                                 detail: String? = nil, on database: some PostgresQuerying) throws {
        try recordSiteChange(action, site: siteID, actor: author.actor, actingFor: author.userID, target: target,
                             detail: detail, from: author.origin, at: author.now, on: database)
    }

    /// `detail` says what changed or what the target was called, so that the entry still reads
    /// after the target is gone (a deleted API client's name).
    static func record(_ action: String, for userID: String, actor: (type: String, id: String?), target: String? = nil,
                       detail: String? = nil, from origin: Origin, at now: Date, on database: some PostgresQuerying) throws {
        try database.query("""
            INSERT INTO audit_log (id, user_id, at, action, actor_type, actor_id, target_id, detail, ip, user_agent)
            VALUES (\(ULID(date: now).description), \(userID), \(now), \(action), \(actor.type), \(actor.id), \(target),
                    \(detail), \(origin.ip), \(origin.userAgent))
            """)
    }

    static func record(_ action: String, for userID: String, actor: (type: String, id: String?), target: String? = nil,
                       request: Request, context: RequestContext) throws {
        try record(action, for: userID, actor: actor, target: target, from: Origin(request), at: context.now, on: context.database)
    }

    static func record(_ action: String, by principal: Principal, target: String? = nil, detail: String? = nil,
                       request: Request, context: RequestContext) throws {
        try record(action, by: Author(principal, request, context), target: target, detail: detail, on: context.database)
    }

    /// Records a change to a site in the log of the person who made it and in those of the site's
    /// owners and admins, as it is now: run it before a change that removes any of them (deleting
    /// the site, say). `detail` says what changed, e.g. the role a member was given. With no person
    /// (a site's API client, an operator) only the owners and admins are told.
    static func recordSiteChange(_ action: String, site siteID: String, actor: (type: String, id: String?), actingFor userID: String?,
                                 target: String? = nil, detail: String? = nil,
                                 from origin: Origin, at now: Date, on database: some PostgresQuerying) throws {
        let readers = try database.query("""
            SELECT user_id FROM site_members WHERE site_id = \(siteID) AND role IN ('owner', 'admin')
            UNION SELECT \(userID)::text WHERE \(userID)::text IS NOT NULL
            """).map { try $0.decode(String.self, "user_id") }
        try database.query("""
            INSERT INTO audit_log (id, user_id, at, action, actor_type, actor_id, target_id, ip, user_agent, site_id, detail)
            SELECT entry.id, entry.user_id, \(now), \(action), \(actor.type), \(actor.id), \(target),
                   \(origin.ip), \(origin.userAgent), \(siteID), \(detail)
            FROM unnest(\(readers.map { _ in ULID(date: now).description })::text[], \(readers)::text[]) AS entry (id, user_id)
            """)
    }

    static func recordSiteChange(_ action: String, site siteID: String, by principal: Principal, target: String? = nil,
                                 detail: String? = nil, request: Request, context: RequestContext) throws {
        try recordSiteChange(action, site: siteID, actor: principal.actor, actingFor: principal.userID, target: target,
                             detail: detail, from: Origin(request), at: context.now, on: context.database)
    }
}
