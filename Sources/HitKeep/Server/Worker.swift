import FastCGI
import Logging

/// One worker process: a FastCGI responder on fd 0 in front of the application.
public struct Worker {
    public enum Outcome: Sendable {
        case drained, recycled, failed
    }

    let application: Application
    let maxRequests: Int

    public init(application: Application, maxRequests: Int) {
        self.application = application
        self.maxRequests = maxRequests
    }

    /// Serves until a drain signal, the request limit, or a failed accept.
    public func run() throws -> Outcome {
        let responder = try FastCGIResponder(listeningSocket: 0, bodyLimit: application.configuration.bodyLimit)
        let reason = responder.run(maxRequests: maxRequests) { incoming in
            FastCGIBridge.response(from: application.respond(to: FastCGIBridge.request(from: incoming)))
        }
        switch reason {
        case .drained: return .drained
        case .requestLimitReached: return .recycled
        case .acceptFailed: return .failed
        }
    }
}
