import CFastCGI
import CSupport

#if canImport(Glibc)
import Glibc
#endif

/// A single-threaded FastCGI responder on a listening socket: accept, read, answer, repeat.
///
/// libfcgi serves one connection at a time. The request record must keep one address for its whole
/// life, so it is allocated once here and freed when the responder goes away.
public final class FastCGIResponder {
    public enum StopReason: Sendable, Equatable {
        /// A drain signal arrived (SIGTERM or SIGINT); the request in flight was finished first.
        case drained
        /// The responder served the number of requests it was allowed.
        case requestLimitReached
        /// accept() failed for another reason.
        case acceptFailed
    }

    private let request: UnsafeMutablePointer<FCGX_Request>
    private let bodyLimit: Int
    /// Where stdin is read to, allocated once rather than per request.
    private let scratch: UnsafeMutableBufferPointer<CChar>

    /// - Parameters:
    ///   - listeningSocket: the listening socket; 0 by the FastCGI convention.
    ///   - bodyLimit: bodies beyond this many bytes are read and discarded, and flagged.
    public init(listeningSocket: Int32 = 0, bodyLimit: Int) throws {
        // The drain handler goes in before FCGX_Init so that libfcgi keeps it instead of its own.
        guard hk_install_drain_handler() == 0, FCGX_Init() == 0 else {
            throw FastCGIError.initializationFailed
        }
        signal(SIGPIPE, SIG_IGN)
        request = .allocate(capacity: 1)
        guard FCGX_InitRequest(request, listeningSocket, FCGI_FAIL_ACCEPT_ON_INTR) == 0 else {
            request.deallocate()
            throw FastCGIError.initializationFailed
        }
        self.bodyLimit = bodyLimit
        scratch = .allocate(capacity: 16 * 1024)
    }

    deinit {
        FCGX_Free(request, 1)
        request.deallocate()
        scratch.deallocate()
    }

    /// Work a responder does between requests, when it falls due and no connection is waiting.
    public struct IdleWork {
        /// How long until the work is due; nil when there is none.
        public var timeUntilDue: () -> Duration?
        public var perform: () -> Void

        public init(timeUntilDue: @escaping () -> Duration?, perform: @escaping () -> Void) {
            self.timeUntilDue = timeUntilDue
            self.perform = perform
        }
    }

    /// Serves requests until drained, until `maxRequests` have been answered (0: no limit), or until
    /// accept fails. `idle` runs before the next accept once it is due, after the last response has
    /// gone out, and waits while connections are waiting.
    public func run(maxRequests: Int = 0, idle: IdleWork? = nil, handler: (FastCGIRequest) -> FastCGIResponse) -> StopReason {
        var served = 0
        while true {
            if hk_drain_requested() != 0 { return .drained }
            if maxRequests > 0 && served >= maxRequests { return .requestLimitReached }
            if let idle { runIdleWork(idle) }
            if hk_drain_requested() != 0 { return .drained }
            guard FCGX_Accept_r(request) >= 0 else {
                return hk_drain_requested() != 0 ? .drained : .acceptFailed
            }
            let incoming = readRequest()
            let response = handler(incoming)
            write(response)
            // Detached, the request's connection is closed outright. Otherwise libfcgi shuts down
            // its sending side and then waits (up to 2 s) for the web server to close first, which
            // keeps this worker from the next connection until nginx has been scheduled and done so:
            // one blocking wait and three system calls per request. The lingering close protects
            // data the peer is still sending, and there is none: the request was read to its end,
            // and nginx sends nothing after it on a connection it does not keep alive.
            FCGX_Detach(request)
            FCGX_Finish_r(request)
            served += 1
        }
    }

    /// Runs `idle` whenever it is due until it has nothing left, returning as soon as a connection
    /// is waiting on the listening socket or a drain is requested.
    private func runIdleWork(_ idle: IdleWork) {
        while let wait = idle.timeUntilDue() {
            if wait > .zero {
                var listening = pollfd(fd: request.pointee.listen_sock, events: Int16(POLLIN), revents: 0)
                let milliseconds = wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000 + 1
                // A connection (or a signal) comes first; the work waits for the next quiet moment.
                if poll(&listening, 1, Int32(clamping: milliseconds)) != 0 { return }
            }
            idle.perform()
            if hk_drain_requested() != 0 { return }
        }
    }

    private func readRequest() -> FastCGIRequest {
        let parameters = FastCGIParameters(environment: request.pointee.envp)
        let announced = parameters["CONTENT_LENGTH"].flatMap { Int($0) } ?? 0
        let (body, exceeded) = readBody(announced: announced)
        return FastCGIRequest(parameters: parameters, body: body, bodyExceededLimit: exceeded)
    }

    /// Reads the whole stdin stream, keeping at most `bodyLimit` bytes: libfcgi needs the stream read
    /// to its end before the response is finished.
    private func readBody(announced: Int) -> ([UInt8], Bool) {
        var body = [UInt8]()
        if announced > 0 && announced <= bodyLimit { body.reserveCapacity(announced) }
        var exceeded = announced > bodyLimit
        while true {
            let count = Int(FCGX_GetStr(scratch.baseAddress, Int32(scratch.count), request.pointee.in))
            if count <= 0 { break }
            if !exceeded {
                if body.count + count > bodyLimit {
                    exceeded = true
                    body = []
                } else {
                    body.append(contentsOf: UnsafeRawBufferPointer(start: scratch.baseAddress, count: count))
                }
            }
        }
        return (exceeded ? [] : body, exceeded)
    }

    /// Writes the response; a client that went away shows up as a failed write and is not an error
    /// worth more than dropping the rest.
    private func write(_ response: FastCGIResponse) {
        let bytes = response.serialized()
        _ = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                FCGX_PutStr($0, Int32(buffer.count), request.pointee.out)
            }
        }
    }
}
