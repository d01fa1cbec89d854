#if canImport(Glibc)
import Glibc
#endif

/// The scoreboard for a person, as php-fpm's status page: the pool, each worker, and each route
/// that has been asked for. Plain text, read with curl on the host or in a browser through nginx.
public enum StatusPage {
    public static let contentType = "text/plain; charset=utf-8"

    public static func render(_ pool: PoolSnapshot, hostname: String = StatusPage.hostname()) -> String {
        var lines: [String] = []
        let started = utc(pool.startedWallSeconds)
        lines.append("HitKeep pool on \(hostname), supervisor pid \(pool.supervisorPID)\(pool.draining ? ", DRAINING" : "")")
        lines.append(row("started", "\(started), up \(duration(pool.upNanoseconds))"))
        lines.append(row("workers", "\(pool.configuredWorkers) configured: \(pool.count(.busy)) busy, \(pool.count(.idle)) idle, "
                         + "\(pool.count(.starting)) starting\(retiringNote(pool))"))
        lines.append(row("requests", "\(pool.requestsTotal) served"))
        if let longest = pool.longestRunning, let busy = longest.busyNanoseconds {
            lines.append(row("longest running", "\(seconds(busy)) \(longest.request ?? "-") (worker pid \(longest.pid))"))
        } else {
            lines.append(row("longest running", "none: no other worker is busy"))
        }
        lines.append(row("request timeout", pool.requestTimeoutNanoseconds == 0 ? "none" : seconds(pool.requestTimeoutNanoseconds)))
        lines.append(row("max requests", pool.maxRequests == 0 ? "no limit" : "\(pool.maxRequests) per worker"))
        for child in PoolChild.allCases {
            let counts = pool.respawns[child.rawValue]
            let reasons = RespawnReason.allCases.filter { counts[$0.rawValue] > 0 }
                .map { "\($0.name) \(counts[$0.rawValue])" }.joined(separator: ", ")
            lines.append(row("\(child.name) respawns", "\(counts.reduce(0, +))\(reasons.isEmpty ? "" : " (\(reasons))")"))
        }
        if let last = pool.lastRespawn {
            lines.append(row("last respawn", "\(last.child.name) pid \(last.pid) \(describe(last)), \(duration(last.agoNanoseconds)) ago"))
        }
        let rollUp = pool.rollUp
        let lag = rollUp.lagNanoseconds.map { "queue lag \(seconds($0))" } ?? "not folded yet"
        lines.append(row("roll-up", rollUp.running
            ? "pid \(rollUp.pid), \(lag), \(rollUp.folds) folds, \(rollUp.eventsFolded) page views folded, \(rollUp.failures) failed folds"
            : "starting (pid \(rollUp.pid)); \(rollUp.folds) folds, \(rollUp.failures) failed so far"))
        for (process, counts) in [("worker", pool.workerDatabaseErrors), ("roll-up", pool.rollUpDatabaseErrors)] {
            let kinds = DatabaseErrorKind.allCases.filter { counts[$0.rawValue] > 0 }
                .map { "\($0.name) \(counts[$0.rawValue])" }.joined(separator: ", ")
            lines.append(row("\(process) db errors", "\(counts.reduce(0, +))\(kinds.isEmpty ? "" : " (\(kinds))")"))
        }

        lines.append("")
        lines.append(columns(["slot", "pid", "state", "up", "requests", "busy for", "request"], widths: [5, 8, 9, 9, 9, 9]))
        for worker in pool.workers {
            lines.append(columns([
                String(worker.slot), String(worker.pid), worker.state.rawValue + (worker.retiring ? "*" : ""),
                duration(worker.upNanoseconds), String(worker.requestsThisProcess),
                worker.busyNanoseconds.map(seconds) ?? "-", worker.request ?? "-",
            ], widths: [5, 8, 9, 9, 9, 9]))
        }
        if pool.workers.contains(where: \.retiring) { lines.append("* retiring: finishing its request before it exits") }

        let asked = pool.routeCounts.indices.filter { pool.routeCounts[$0].requests > 0 }
        if !asked.isEmpty {
            lines.append("")
            lines.append(columns(["route", "requests", "2xx", "3xx", "4xx", "5xx", "mean"], widths: [48, 9, 7, 7, 7, 7]))
            for index in asked {
                let counts = pool.routeCounts[index]
                var classes = [UInt64](repeating: 0, count: 6)
                for (column, count) in counts.statuses.enumerated() where count > 0 {
                    let code = column < StatusColumns.codes.count ? StatusColumns.codes[column] : 0
                    classes[code / 100] += count
                }
                let route = pool.routes[index]
                lines.append(columns([
                    route.method.isEmpty ? route.pattern : "\(route.method) \(route.pattern)", String(counts.requests),
                    String(classes[2]), String(classes[3]), String(classes[4]), String(classes[5]),
                    milliseconds(counts.nanoseconds / max(counts.requests, 1)),
                ], widths: [48, 9, 7, 7, 7, 7]))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func hostname() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "this host" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func retiringNote(_ pool: PoolSnapshot) -> String {
        let retiring = pool.workers.filter(\.retiring).count
        return retiring == 0 ? "" : " (\(retiring) of them retiring)"
    }

    private static func describe(_ respawn: PoolSnapshot.Respawn) -> String {
        switch respawn.reason {
        case .signal: "killed by signal \(respawn.detail)\(SignalName.of(respawn.detail).map { " (\($0))" } ?? "")"
        case .exitStatus: "exited with status \(respawn.detail)"
        case .requestTimeout: "killed after the request timeout"
        case .maxRequests: "retired after its request limit"
        case .reload: "replaced by a rolling restart"
        }
    }

    private static func row(_ name: String, _ value: String) -> String {
        pad(name, 18) + value
    }

    private static func columns(_ values: [String], widths: [Int]) -> String {
        var line = ""
        for (index, value) in values.enumerated() {
            if index < widths.count {
                line += value.count >= widths[index] ? value + " " : pad(value, widths[index])
            } else {
                line += value
            }
        }
        return line
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(width - text.count, 0))
    }

    private static func seconds(_ nanoseconds: UInt64) -> String {
        let milliseconds = nanoseconds / 1_000_000
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - String(milliseconds % 1000).count))\(milliseconds % 1000) s"
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> String {
        let microseconds = nanoseconds / 1000
        let fraction = String(microseconds % 1000 / 10)
        return "\(microseconds / 1000).\(fraction.count == 1 ? "0" + fraction : fraction) ms"
    }

    private static func duration(_ nanoseconds: UInt64) -> String {
        let total = nanoseconds / 1_000_000_000
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60)s" }
        if total < 86400 { return "\(total / 3600)h\(total % 3600 / 60)m" }
        return "\(total / 86400)d\(total % 86400 / 3600)h"
    }

    private static func utc(_ seconds: UInt64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }
}
