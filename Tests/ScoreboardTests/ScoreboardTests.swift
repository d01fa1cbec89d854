import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Scoreboard

private let routes = [
    RouteLabel(method: "", pattern: "unmatched"),
    RouteLabel(method: "GET", pattern: "/api/health"),
    RouteLabel(method: "GET", pattern: "/api/sites/{site_id}"),
]

@Suite struct ScoreboardTests {
    @Test func countsAWorkersRequestsByRouteStatusAndLatency() {
        let board = Scoreboard.detached(slots: 2, routes: routes)
        var supervisor = SupervisorRecord(board: board, settings: .init(workers: 2, requestTimeoutNanoseconds: 60_000_000_000, maxRequests: 0))
        let index = supervisor.reserveSlot()!
        supervisor.started(4242, in: index)
        let slot = WorkerSlot(board: board, index: index)
        #expect(PoolSnapshot(of: board).workers.map(\.state) == [.starting])
        slot.ready()
        #expect(PoolSnapshot(of: board).workers.map(\.state) == [.idle])

        let started = slot.begin(method: "GET", path: "/api/sites/S1")
        let busy = PoolSnapshot(of: board)
        #expect(busy.workers.map(\.state) == [.busy])
        #expect(busy.workers.first?.request == "GET /api/sites/S1")
        #expect(busy.longestRunning?.pid == 4242)
        #expect(supervisor.busySince(index) == started)
        slot.finish(started: started, route: 2, status: 404)
        slot.finish(started: slot.begin(method: "GET", path: "/api/health"), route: 1, status: 200)

        let pool = PoolSnapshot(of: board)
        #expect(pool.workers.map(\.state) == [.idle])
        #expect(pool.requestsTotal == 2)
        #expect(pool.routeCounts[2].statuses[StatusColumns.column(of: 404)] == 1)
        #expect(pool.routeCounts[1].statuses[StatusColumns.column(of: 200)] == 1)
        #expect(pool.routeCounts[1].requests == 1)
        #expect(supervisor.busySince(index) == nil)
    }

    @Test func keepsCumulativeCountersWhenASlotPassesToTheNextWorker() {
        let board = Scoreboard.detached(slots: 1, routes: routes)
        var supervisor = SupervisorRecord(board: board, settings: .init(workers: 1, requestTimeoutNanoseconds: 0, maxRequests: 0))
        let first = supervisor.reserveSlot()!
        let slot = WorkerSlot(board: board, index: first)
        slot.ready()
        _ = slot.begin(method: "POST", path: "/ingest")
        // Killed mid-request: the supervisor frees the slot.
        supervisor.release(first)
        supervisor.respawned(.worker, pid: 7, reason: .signal, detail: 9)
        #expect(supervisor.reserveSlot() == first)
        #expect(supervisor.reserveSlot() == nil)
        WorkerSlot(board: board, index: first).finish(started: MonotonicClock.nanoseconds(), route: 0, status: 404)

        let pool = PoolSnapshot(of: board)
        #expect(pool.requestsTotal == 1)
        #expect(pool.workers.first?.busyNanoseconds == nil)
        #expect(pool.respawns[PoolChild.worker.rawValue][RespawnReason.signal.rawValue] == 1)
        #expect(pool.lastRespawn?.pid == 7 && pool.lastRespawn?.detail == 9)
    }

    @Test func writesPrometheusTextWithCumulativeBuckets() {
        let board = Scoreboard.detached(slots: 1, routes: routes)
        _ = SupervisorRecord(board: board, settings: .init(workers: 1, requestTimeoutNanoseconds: 2_000_000_000, maxRequests: 0))
        let slot = WorkerSlot(board: board, index: 0)
        for _ in 0..<3 { slot.finish(started: MonotonicClock.nanoseconds(), route: 1, status: 200) }
        slot.finish(started: MonotonicClock.nanoseconds() - 3_000_000_000, route: 1, status: 503)
        slot.countDatabaseError(.unavailable)

        let text = PrometheusExposition.render(PoolSnapshot(of: board))
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"hitkeep_http_requests_total{method="GET",route="/api/health",status="200"} 3"#))
        #expect(lines.contains(#"hitkeep_http_requests_total{method="GET",route="/api/health",status="503"} 1"#))
        #expect(lines.contains(#"hitkeep_http_request_duration_seconds_bucket{method="GET",route="/api/health",le="0.0005"} 3"#))
        #expect(lines.contains(#"hitkeep_http_request_duration_seconds_bucket{method="GET",route="/api/health",le="2.5"} 3"#))
        #expect(lines.contains(#"hitkeep_http_request_duration_seconds_bucket{method="GET",route="/api/health",le="5"} 4"#))
        #expect(lines.contains(#"hitkeep_http_request_duration_seconds_bucket{method="GET",route="/api/health",le="+Inf"} 4"#))
        #expect(lines.contains(#"hitkeep_http_request_duration_seconds_count{method="GET",route="/api/health"} 4"#))
        #expect(lines.contains("hitkeep_requests_total 4"))
        #expect(lines.contains("hitkeep_request_timeout_seconds 2"))
        #expect(lines.contains(#"hitkeep_database_errors_total{process="worker",kind="unavailable"} 1"#))
        #expect(!text.contains("route=\"/api/sites/{site_id}\""))
    }

    @Test func mapsStatusesAndLatencies() {
        #expect(StatusColumns.column(of: 200) == 0)
        #expect(StatusColumns.name(of: StatusColumns.column(of: 418)) == "other")
        for (column, code) in StatusColumns.codes.enumerated() { #expect(StatusColumns.column(of: code) == column) }
        #expect(LatencyBuckets.bucket(of: 0) == 0)
        #expect(LatencyBuckets.bucket(of: 500_000) == 0)
        #expect(LatencyBuckets.bucket(of: 500_001) == 1)
        #expect(LatencyBuckets.bucket(of: 60_000_000_000) == LatencyBuckets.count - 1)
        #expect(LatencyBuckets.label(of: 0) == "0.0005")
        #expect(LatencyBuckets.label(of: 10) == "1")
    }

    @Test func refusesABoardLaidOutForOtherRoutes() throws {
        let board = try Scoreboard.create(slots: 2, routes: routes)
        let copy = dup(board.descriptor!)
        #expect(throws: Scoreboard.Failure.self) {
            try Scoreboard.attach(descriptor: copy, routes: Array(routes.dropLast()))
        }
        let attached = try Scoreboard.attach(descriptor: dup(board.descriptor!), routes: routes)
        WorkerSlot(board: attached, index: 1).finish(started: MonotonicClock.nanoseconds(), route: 1, status: 200)
        #expect(PoolSnapshot(of: board).requestsTotal == 1)
    }

    @Test func rendersAStatusPage() {
        let board = Scoreboard.detached(slots: 2, routes: routes)
        var supervisor = SupervisorRecord(board: board, settings: .init(workers: 2, requestTimeoutNanoseconds: 0, maxRequests: 100))
        let slot = WorkerSlot(board: board, index: supervisor.reserveSlot()!)
        slot.ready()
        _ = slot.begin(method: "GET", path: "/api/sites/S1")
        let page = StatusPage.render(PoolSnapshot(of: board), hostname: "example")
        #expect(page.contains("1 busy, 0 idle"))
        #expect(page.contains("GET /api/sites/S1"))
        #expect(page.contains("request timeout   none"))
    }
}
