import PostgresClient

/// What the roll-up process does on every pass while a deleted site's rows remain (migrations/0049):
/// removes them a batch per transaction, its page views and every rollup of them, then the site.
/// A batch holds the site's rollup lock for a fraction of a second, so a pass ends soon and the
/// folds of other sites go on between passes.
public struct DeletedSiteRemoval {
    /// Rows per deleting transaction.
    public var batchSize = 10_000
    /// Deleting transactions per pass.
    public var maximumBatches = 10

    public init() {}

    /// Returns how many rows it removed, and whether nothing is left to remove (or a fold of the
    /// site whose turn it is holds it: the next pass tries again).
    @discardableResult
    public func apply(on database: some PostgresQuerying) throws -> (removed: Int, finished: Bool) {
        try BatchedDeletion(maximumBatches: maximumBatches).run {
            try database.query("SELECT remove_deleted_site_rows(\(batchSize)) AS removed")[0].decode(Int.self, "removed")
        }
    }
}
