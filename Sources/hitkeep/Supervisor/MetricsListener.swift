import CSupport
import Foundation
import Logging
import Scoreboard

#if canImport(Glibc)
import Glibc
#endif

/// `serve --metrics-address`: the scoreboard in Prometheus's text format at `GET /metrics`, over
/// plain HTTP, so that a Prometheus on the private network can scrape every worker host. Served by
/// a thread of the supervisor, which holds the board for as long as the pool lives, whatever its
/// workers do; the thread only reads shared memory, so it needs nothing from the supervisor's loop.
///
/// One connection at a time, each bounded by short timeouts: a scraper asks every few seconds, and
/// the address is for a private network, never the internet (there is no authentication).
struct MetricsListener {
    private static let ioTimeoutSeconds = 2
    private static let requestLimit = 8192

    let descriptor: Int32
    let address: String

    /// Binds the address at once, so that a taken port stops `serve` before any worker starts.
    static func open(_ address: ListeningSocket.Address) throws -> MetricsListener {
        let socket = try ListeningSocket.open(address, mode: 0o600, backlog: 64)
        // The workers must not inherit it: they would hold the port after the supervisor is gone.
        _ = fcntl(socket.descriptor, F_SETFD, FD_CLOEXEC)
        return MetricsListener(descriptor: socket.descriptor, address: address.description)
    }

    /// Serves on a thread of its own until the process exits.
    func start(board: Scoreboard, logger: Logger) {
        let descriptor = self.descriptor
        let thread = Thread {
            while true { Self.serveOne(descriptor, board: board, logger: logger) }
        }
        thread.name = "metrics"
        // The thread must never take the supervisor's signals: they are waited for with sigtimedwait
        // on the main thread, and one delivered here instead would run its default action (for
        // SIGTERM: end the pool without draining). A new thread inherits the mask of its creator.
        var all = sigset_t()
        var previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &previous)
        thread.start()
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }

    private static func serveOne(_ listening: Int32, board: Scoreboard, logger: Logger) {
        let client = hk_accept_close_on_exec(listening)
        guard client >= 0 else {
            if errno != EINTR && errno != ECONNABORTED {
                logger.warning("metrics: accept failed", metadata: ["error": .string(String(cString: strerror(errno)))])
                usleep(100_000)
            }
            return
        }
        defer { close(client) }
        var timeout = timeval(tv_sec: ioTimeoutSeconds, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let requestLine = readRequestLine(client) else { return }
        let parts = requestLine.split(separator: " ")
        let target = parts.count >= 2 ? parts[1].prefix { $0 != "?" } : ""
        let method = parts.first ?? ""
        let response: [UInt8]
        switch (method, target) {
        case ("GET", "/metrics"), ("HEAD", "/metrics"):
            let body = PrometheusExposition.render(PoolSnapshot(of: board))
            response = Self.response("200 OK", contentType: PrometheusExposition.contentType, body: body, head: method == "HEAD")
        case (_, "/metrics"):
            response = Self.response("405 Method Not Allowed", contentType: "text/plain; charset=utf-8", body: "GET /metrics\n")
        default:
            response = Self.response("404 Not Found", contentType: "text/plain; charset=utf-8", body: "the metrics are at /metrics\n")
        }
        writeAll(client, response)
    }

    /// The request line, once the whole head has arrived; nil if it does not within the limits.
    private static func readRequestLine(_ client: Int32) -> String? {
        var head = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 2048)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while head.count < requestLimit {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            head.append(contentsOf: buffer[0..<count])
            if let found = head.firstRange(of: end) {
                let firstLine = head[..<found.lowerBound].prefix { $0 != UInt8(ascii: "\r") }
                return String(decoding: firstLine, as: UTF8.self)
            }
        }
        return nil
    }

    private static func response(_ status: String, contentType: String, body: String, head: Bool = false) -> [UInt8] {
        let bytes = Array(body.utf8)
        let header = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bytes.count)\r\n"
            + "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        return Array(header.utf8) + (head ? [] : bytes)
    }

    private static func writeAll(_ client: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(client, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }
}
