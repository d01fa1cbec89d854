/// The scoreboard in Prometheus's text exposition format (version 0.0.4), which every Prometheus
/// and most other collectors scrape. Written by hand rather than through swift-prometheus: its
/// registry lives inside one process and only records observations one at a time, while these
/// numbers are already counted, by many processes, in shared memory.
public enum PrometheusExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ pool: PoolSnapshot) -> String {
        var text = ""
        text.reserveCapacity(8192)

        single(&text, "hitkeep_pool_start_time_seconds", "gauge",
               "When the pool's supervisor started, in seconds since the Unix epoch.", pool.startedWallSeconds)

        family(&text, "hitkeep_workers", "gauge",
               "Worker processes by state: starting (not yet accepting), idle (waiting for a request), busy (on one).")
        for state in [PoolSnapshot.WorkerState.starting, .idle, .busy] {
            text += "hitkeep_workers{state=\"\(state.rawValue)\"} \(pool.count(state))\n"
        }
        single(&text, "hitkeep_workers_configured", "gauge",
               "Workers the pool keeps running (--workers).", pool.configuredWorkers)

        single(&text, "hitkeep_requests_total", "counter",
               "Requests the workers have answered.", pool.requestsTotal)

        family(&text, "hitkeep_http_requests_total", "counter",
               "Requests answered, by route and status. route=\"unmatched\": no route (404, 405, malformed).")
        for (index, counts) in pool.routeCounts.enumerated() {
            let labels = routeLabels(pool.routes[index])
            for (column, count) in counts.statuses.enumerated() where count > 0 {
                text += "hitkeep_http_requests_total{\(labels),status=\"\(StatusColumns.name(of: column))\"} \(count)\n"
            }
        }

        family(&text, "hitkeep_http_request_duration_seconds", "histogram",
               "Time a worker spent on a request, from its parameters read to its response ready, by route.")
        for (index, counts) in pool.routeCounts.enumerated() where counts.requests > 0 {
            let labels = routeLabels(pool.routes[index])
            var cumulative: UInt64 = 0
            for (bucket, count) in counts.buckets.enumerated() {
                cumulative += count
                text += "hitkeep_http_request_duration_seconds_bucket{\(labels),le=\"\(LatencyBuckets.label(of: bucket))\"} \(cumulative)\n"
            }
            text += "hitkeep_http_request_duration_seconds_sum{\(labels)} \(PrometheusNumber.seconds(nanoseconds: counts.nanoseconds))\n"
            text += "hitkeep_http_request_duration_seconds_count{\(labels)} \(cumulative)\n"
        }

        single(&text, "hitkeep_longest_running_request_seconds", "gauge",
               "How long the longest request in hand right now has run; 0 when every worker is idle.",
               PrometheusNumber.seconds(nanoseconds: pool.longestRunning?.busyNanoseconds ?? 0))
        single(&text, "hitkeep_request_timeout_seconds", "gauge",
               "A worker busy on one request longer than this is killed and replaced (--request-timeout; 0: never).",
               PrometheusNumber.seconds(nanoseconds: pool.requestTimeoutNanoseconds))

        family(&text, "hitkeep_respawns_total", "counter",
               "Processes the supervisor started in the place of others, by child and reason.")
        for child in PoolChild.allCases {
            for reason in RespawnReason.allCases where child == .worker || (reason != .maxRequests && reason != .requestTimeout) {
                text += "hitkeep_respawns_total{child=\"\(child.name)\",reason=\"\(reason.name)\"} \(pool.respawns[child.rawValue][reason.rawValue])\n"
            }
        }

        if let lag = pool.rollUp.lagNanoseconds {
            single(&text, "hitkeep_rollup_queue_lag_seconds", "gauge",
                   "Since the roll-up process last left no queued page view to fold: how far the rollups may trail ingestion.",
                   PrometheusNumber.seconds(nanoseconds: lag))
        }
        single(&text, "hitkeep_rollup_folds_total", "counter",
               "Folds of the ingest queue into the rollups.", pool.rollUp.folds)
        single(&text, "hitkeep_rollup_events_folded_total", "counter",
               "Page views moved from the queue into the rollups.", pool.rollUp.eventsFolded)
        single(&text, "hitkeep_rollup_failures_total", "counter",
               "Folds that failed (the database unreachable, a statement timeout).", pool.rollUp.failures)

        family(&text, "hitkeep_database_errors_total", "counter",
               "Errors PostgreSQL or libpq reported, by process and kind.")
        for (process, counts) in [("worker", pool.workerDatabaseErrors), ("roll-up", pool.rollUpDatabaseErrors)] {
            for kind in DatabaseErrorKind.allCases {
                text += "hitkeep_database_errors_total{process=\"\(process)\",kind=\"\(kind.name)\"} \(counts[kind.rawValue])\n"
            }
        }
        return text
    }

    /// A family of one sample without labels.
    private static func single(_ text: inout String, _ name: String, _ type: String, _ help: String,
                               _ value: some CustomStringConvertible) {
        family(&text, name, type, help)
        text += "\(name) \(value)\n"
    }

    private static func family(_ text: inout String, _ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private static func routeLabels(_ route: RouteLabel) -> String {
        "method=\"\(PrometheusNumber.label(route.method))\",route=\"\(PrometheusNumber.label(route.pattern))\""
    }
}
