import ArgumentParser
import HitKeep

/// How every `list` command prints: a header row and tab-separated rows for people and `cut`/`awk`,
/// or with `--json` one JSON array of objects for scripts.
struct ListingOptions: ParsableArguments {
    @Flag(help: "Print a JSON array of objects instead of a table.") var json = false

    func print(_ listing: Administration.Listing) {
        if json {
            let objects = listing.rows.map { row in JSON.object(Array(zip(listing.columns, row))) }
            Swift.print(String(decoding: JSON.array(objects).encoded(), as: UTF8.self))
            return
        }
        Swift.print(listing.columns.joined(separator: "\t"))
        for row in listing.rows {
            Swift.print(row.map(Self.cell).joined(separator: "\t"))
        }
    }

    /// A value as a table cell: text as it is (tabs and line breaks as spaces, so that a row stays
    /// one line), `-` for none, lists comma-separated.
    private static func cell(_ value: JSON) -> String {
        switch value {
        case .null: return "-"
        case .bool(let flag): return flag ? "yes" : "no"
        case .string(let text): return String(text.map { $0 == "\t" || $0.isNewline ? " " : $0 })
        case .array(let items): return items.isEmpty ? "-" : items.map(cell).joined(separator: ",")
        case .number, .object: return String(decoding: value.encoded(), as: UTF8.self)
        }
    }
}
