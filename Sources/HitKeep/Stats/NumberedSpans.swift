import Foundation

/// Stretches of time for a statement to read, each tagged with the number of the range (chart
/// bucket) it belongs to, as the parallel arrays the SQL unnests (`unnest(from, to, number)`);
/// empty ones are left out.
struct NumberedSpans {
    var from: [Date] = []
    var to: [Date] = []
    var number: [Int] = []

    mutating func add(_ start: Date, _ end: Date, _ range: Int) {
        guard start < end else { return }
        from.append(start)
        to.append(end)
        number.append(range)
    }
}
