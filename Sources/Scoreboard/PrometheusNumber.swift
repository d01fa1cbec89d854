/// Numbers as the Prometheus text format writes them.
enum PrometheusNumber {
    /// Nanoseconds as seconds: whole seconds without a fraction (`10`), others as Swift's shortest
    /// exact decimal (`0.0025`), which Prometheus parses as Go does.
    static func seconds(nanoseconds: UInt64) -> String {
        if nanoseconds % 1_000_000_000 == 0 { return String(nanoseconds / 1_000_000_000) }
        return String(Double(nanoseconds) / 1e9)
    }

    /// A label value with `\`, `"` and newlines escaped.
    static func label(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
