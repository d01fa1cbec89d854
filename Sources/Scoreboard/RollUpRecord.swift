/// The roll-up process's part of the scoreboard: its folds, their failures, and when it last
/// caught up with the queue, from which the metrics tell how far the rollups trail ingestion.
public struct RollUpRecord {
    private let board: Scoreboard

    public init(board: Scoreboard) {
        self.board = board
    }

    /// The process has started folding.
    public func ready() {
        board.rollUpWord(ScoreboardLayout.RollUp.readySince).publish(MonotonicClock.nanoseconds())
    }

    /// A fold moved `moved` page views; `drained` when it left nothing this process could fold, so
    /// that every page view queued before `started` is in the rollups (sites another host was
    /// folding at the time aside).
    public func folded(moved: Int, drained: Bool, started: UInt64) {
        board.rollUpWord(ScoreboardLayout.RollUp.folds).add(1)
        board.rollUpWord(ScoreboardLayout.RollUp.eventsFolded).add(UInt64(max(moved, 0)))
        if drained { board.rollUpWord(ScoreboardLayout.RollUp.lastDrainedAt).store(started) }
    }

    public func failed() {
        board.rollUpWord(ScoreboardLayout.RollUp.failures).add(1)
    }

    public func countDatabaseError(_ kind: DatabaseErrorKind) {
        board.rollUpWord(ScoreboardLayout.RollUp.databaseErrors + kind.rawValue).add(1)
    }
}
