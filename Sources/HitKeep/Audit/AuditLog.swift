import Foundation
import HTTPTypes
import PostgresClient

/// The security log of API.md §6, written in the same transaction as the change it records.
enum AuditLog {
    static func record(_ action: String, for userID: String, actor: (type: String, id: String?), target: String? = nil,
                       request: Request, context: RequestContext) throws {
        try context.database.query("""
            INSERT INTO audit_log (id, user_id, at, action, actor_type, actor_id, target_id, ip, user_agent)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """, [
                ULID(date: context.now).description, userID, context.now, action,
                actor.type, actor.id, target, request.remoteAddress,
                request.headers[.userAgent].map { String($0.prefix(512)) },
            ])
    }

    static func record(_ action: String, by principal: Principal, target: String? = nil,
                       request: Request, context: RequestContext) throws {
        try record(action, for: principal.user.id, actor: principal.actor, target: target, request: request, context: context)
    }
}
