import FastCGI
import Logging
import Scoreboard

/// One worker process: a FastCGI responder on fd 0 in front of the application, counting each
/// request in its scoreboard slot.
public struct Worker {
    public enum Outcome: Sendable {
        case drained, recycled, failed
    }

    let application: Application
    let maxRequests: Int
    public let slot: WorkerSlot

    /// - Parameter slot: the slot the supervisor gave this worker; without one (a worker started by
    ///   spawn-fcgi, say), a scoreboard of its own, whose API client usage this worker drains itself.
    public init(application: Application, maxRequests: Int, slot: WorkerSlot? = nil) {
        self.application = application
        self.maxRequests = maxRequests
        self.slot = slot ?? WorkerSlot.standalone(routes: PoolRoutes.labels(of: application), maxRequests: maxRequests)
        application.share(self.slot.scoreboard, drainsUsageItself: slot == nil)
    }

    /// Serves until a drain signal, the request limit, or a failed accept.
    public func run() throws -> Outcome {
        let responder = try FastCGIResponder(listeningSocket: 0, bodyLimit: application.configuration.bodyLimit)
        let statusPageCounter = PoolRoutes.statusPageCounter(in: slot.scoreboard.routes)
        slot.ready()
        // Dropped page views are written between requests, never while one waits for its answer.
        let idle = FastCGIResponder.IdleWork(timeUntilDue: { application.droppedPageViews.timeUntilDue() },
                                             perform: application.writeDroppedPageViews)
        let reason = responder.run(maxRequests: maxRequests, idle: idle) { incoming in
            let request = FastCGIBridge.request(from: incoming)
            let started = slot.begin(method: request.method.rawValue, path: request.path)
            let response: Response
            let counter: Int
            if PoolStatusPage.isRequested(request) {
                response = PoolStatusPage.response(to: request, servedBy: slot)
                counter = statusPageCounter
            } else {
                response = application.respond(to: request)
                counter = PoolRoutes.counter(forRoute: application.lastRoute)
            }
            slot.finish(started: started, route: counter, status: response.status.code)
            return FastCGIBridge.response(from: response)
        }
        // A worker that stops on purpose leaves no count behind.
        if reason != .acceptFailed { application.writeDroppedPageViews() }
        switch reason {
        case .drained: return .drained
        case .requestLimitReached: return .recycled
        case .acceptFailed: return .failed
        }
    }
}
