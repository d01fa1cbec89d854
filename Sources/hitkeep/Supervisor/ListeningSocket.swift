import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The socket the workers accept on. Opened here rather than by libfcgi, whose opener exits the
/// process on a bind failure and binds every IPv4 address for `:port`.
struct ListeningSocket {
    enum Address: Equatable, CustomStringConvertible {
        case unix(path: String)
        case tcp(host: String, port: UInt16)

        /// `/run/hitkeep.sock`, `unix:/path`, `127.0.0.1:9000`, `[::1]:9000`, `localhost:9000`.
        init?(_ text: String) {
            if text.hasPrefix("unix:") {
                self = .unix(path: String(text.dropFirst(5)))
            } else if text.contains("/") {
                self = .unix(path: text)
            } else if let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 {
                var host = String(text[..<colon])
                if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                guard !host.isEmpty else { return nil }
                self = .tcp(host: host, port: port)
            } else {
                return nil
            }
        }

        var description: String {
            switch self {
            case .unix(let path): path
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let descriptor: Int32
    let address: Address?

    /// fd 0 when it is already a listening socket (spawn-fcgi), or fd 3 under systemd socket activation.
    static func inherited() -> ListeningSocket? {
        let environment = ProcessInfo.processInfo.environment
        if environment["LISTEN_PID"].flatMap(Int32.init) == getpid(), environment["LISTEN_FDS"] == "1", isListening(3) {
            return ListeningSocket(descriptor: 3, address: nil)
        }
        return isListening(0) ? ListeningSocket(descriptor: 0, address: nil) : nil
    }

    static func isListening(_ descriptor: Int32) -> Bool {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting == 1
    }

    static func open(_ address: Address, mode: mode_t, backlog: Int32 = 1024) throws -> ListeningSocket {
        let descriptor: Int32
        switch address {
        case .unix(let path):
            descriptor = try openUnix(path: path, mode: mode, backlog: backlog)
        case .tcp(let host, let port):
            descriptor = try openTCP(host: host, port: port, backlog: backlog)
        }
        return ListeningSocket(descriptor: descriptor, address: address)
    }

    private static func openUnix(path: String, mode: mode_t, backlog: Int32) throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { throw Failure(description: "socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path.utf8)
            buffer[path.utf8.count] = 0
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        // A socket file left by a previous run that nobody listens on any more is replaced; one that
        // answers belongs to a running server and is left alone.
        if access(path, F_OK) == 0 {
            if probeUnix(&address) {
                close(descriptor)
                throw Failure(description: "another server is listening on \(path)")
            }
            unlink(path)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "cannot bind \(path): \(reason)")
        }
        chmod(path, mode)
        guard listen(descriptor, backlog) == 0 else {
            close(descriptor)
            throw Failure(description: "cannot listen on \(path): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    private static func probeUnix(_ address: inout sockaddr_un) -> Bool {
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    private static func openTCP(host: String, port: UInt16, backlog: Int32) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var results: UnsafeMutablePointer<addrinfo>?
        let lookup = getaddrinfo(host == "*" ? nil : host, String(port), &hints, &results)
        guard lookup == 0, let first = results else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(lookup)))")
        }
        defer { freeaddrinfo(results) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "cannot bind \(host):\(port): \(reason)")
        }
        guard listen(descriptor, backlog) == 0 else {
            close(descriptor)
            throw Failure(description: "cannot listen on \(host):\(port): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    /// Stops accepting new connections: the socket file goes (if this process created it), and
    /// this process's descriptor is closed. Once the workers have let go of their copies as well,
    /// connecting fails at once, so a web server moves on to another upstream instead of waiting.
    func stopListening() {
        if case .unix(let path) = address { unlink(path) }
        close(descriptor)
    }
}
