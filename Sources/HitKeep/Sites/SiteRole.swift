/// A person's role on a site. Each role may do what the ones below it may.
public enum SiteRole: String, Sendable, Comparable {
    case viewer
    case admin
    case owner

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .admin: 1
        case .owner: 2
        }
    }

    public static func < (left: SiteRole, right: SiteRole) -> Bool { left.rank < right.rank }
}
