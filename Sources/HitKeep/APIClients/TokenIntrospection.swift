import Foundation

/// What `GET /api/token` tells the holder of a token (docs/API.md §6.4).
struct TokenIntrospection: Sendable {
    /// The token presented, which during a rotation's grace period is the old one.
    struct PresentedToken: Sendable {
        var hint: String
        /// When it stops working: its grace period's end or the client's expiry, whichever comes
        /// first; nil for never.
        var expiresAt: Date?
        /// Whether a rotation replaced it.
        var rotatedOut: Bool
    }

    var client: APIClient
    var presented: PresentedToken
    /// The email of the person a user's client acts for; nil for a site's client, which acts for none.
    var ownerEmail: String?
}
