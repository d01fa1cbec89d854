/// A backlog of rows deleted in short transactions, each a call of `batch` that deletes some and
/// says how many went: no statement holds rows or locks for long, and a pass of at most
/// `maximumBatches` leaves the rest for the next one, between folds.
struct BatchedDeletion {
    var maximumBatches: Int

    /// How many rows the batches removed, and whether the last found nothing left.
    func run(_ batch: () throws -> Int) rethrows -> (removed: Int, finished: Bool) {
        var removed = 0
        for _ in 0..<maximumBatches {
            let rows = try batch()
            guard rows > 0 else { return (removed, true) }
            removed += rows
        }
        return (removed, false)
    }
}
