/// What a per-route counter is called: the route's method and path pattern as the router has them
/// (`GET`, `/api/sites/{site_id}`). The scoreboard keeps counters by position in a list of these,
/// which every process of a pool builds the same way.
public struct RouteLabel: Sendable, Hashable {
    public let method: String
    public let pattern: String

    public init(method: String, pattern: String) {
        self.method = method
        self.pattern = pattern
    }

    /// Identifies a list of labels, so that a worker of another build (its binary replaced before a
    /// reload) is not let loose on counters laid out for other routes: FNV-1a over the labels.
    static func fingerprint(of labels: [RouteLabel]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for label in labels {
            for byte in label.method.utf8 + [0x20] + label.pattern.utf8 + [0x0A] {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
        }
        return hash
    }
}
