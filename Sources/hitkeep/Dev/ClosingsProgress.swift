import Foundation

/// The breakdowns' closings ahead after a bulk load, drawn as a progress bar on standard error
/// (`hitkeep roll-up --once`, `hitkeep dev seed`); says nothing when none was due.
struct ClosingsProgress {
    private var bar: ProgressBar?
    private var done = 0
    private var ahead = 0

    mutating func update(done: Int, ahead: Int) {
        if bar == nil {
            FileHandle.standardError.write(Data("adding up breakdowns under filters by day and hour\n".utf8))
            bar = ProgressBar(total: ahead, unit: "closings")
        }
        bar?.update(done, force: done == ahead)
        (self.done, self.ahead) = (done, ahead)
    }

    func finish() {
        guard let bar else { return }
        if done == ahead {
            bar.finish()
        } else {
            // A closing of another process (a pool's roll-up) held their lock, and goes on with them.
            FileHandle.standardError.write(Data("\n\(done) of \(ahead) closings added up; the rest are another roll-up process's\n".utf8))
        }
    }
}
