import HTTPTypes

/// Routes as data: a method and a path pattern to a handler, kept as a tree of path segments so a
/// lookup costs one dictionary probe per segment, however many routes there are.
public struct Router<Handler: Sendable>: Sendable {
    public enum Resolution {
        /// `route` is the route's position in `routes`.
        case matched(Handler, parameters: [String: String], route: Int)
        /// The path exists, but not for this method; the methods that do exist, for `Allow`.
        case methodNotAllowed(allowed: [HTTPRequest.Method])
        case notFound
    }

    private final class Node: @unchecked Sendable {
        // Built once before serving and only read afterwards.
        /// A node has a handful of literal children, so they are searched in order by their bytes:
        /// cheaper than hashing the segment for a dictionary. Bytes compare as `String` equality
        /// did for the literals routes use, lowercase ASCII and hyphens: no other text is
        /// canonically equivalent to them (the ASCII characters that have such twins, `K`, `;` and
        /// the backtick, appear in no route).
        var literals: [(segment: [UInt8], node: Node)] = []
        var parameter: (name: String, node: Node)?
        var handlers: [(method: HTTPRequest.Method, handler: Handler, route: Int)] = []

        func literal(_ segment: UnsafeBufferPointer<UInt8>) -> Node? {
            for literal in literals where literal.segment.count == segment.count {
                if literal.segment.withUnsafeBufferPointer({ $0.elementsEqual(segment) }) { return literal.node }
            }
            return nil
        }
    }

    private let root = Node()
    /// Every route in the order it was added: what the pool's per-route counters are labelled with,
    /// and what `OpenAPIDocumentTests` compares with the documentation; requests are resolved
    /// through the tree alone.
    public private(set) var routes: [(method: HTTPRequest.Method, pattern: String)] = []

    public init() {}

    public mutating func add(_ method: HTTPRequest.Method, _ pattern: String, _ handler: Handler) {
        var node = root
        for segment in PathPattern(pattern).segments {
            switch segment {
            case .literal(let literal):
                let key = Array(literal.utf8)
                if let next = node.literals.first(where: { $0.segment == key })?.node {
                    node = next
                } else {
                    let next = Node()
                    node.literals.append((key, next))
                    node = next
                }
            case .parameter(let name):
                if let existing = node.parameter {
                    precondition(existing.name == name, "routes disagree on the parameter name at \(pattern)")
                    node = existing.node
                } else {
                    let next = Node()
                    node.parameter = (name, next)
                    node = next
                }
            }
        }
        precondition(!node.handlers.contains { $0.method == method }, "duplicate route \(method) \(pattern)")
        node.handlers.append((method, handler, routes.count))
        routes.append((method, pattern))
    }

    public func resolve(_ method: HTTPRequest.Method, path: String) -> Resolution {
        var path = path
        return path.withUTF8 { bytes in
            guard let parts = Self.segments(of: bytes) else { return .notFound }
            var captured: [(String, Range<Int>)] = []
            guard let node = Self.find(parts[...], in: bytes, from: root, captured: &captured), !node.handlers.isEmpty else {
                return .notFound
            }
            guard let route = node.handlers.first(where: { $0.method == method }) else {
                return .methodNotAllowed(allowed: node.handlers.map(\.method))
            }
            var parameters: [String: String] = [:]
            for (name, range) in captured {
                parameters[name] = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
            return .matched(route.handler, parameters: parameters, route: route.route)
        }
    }

    /// Literal segments are tried before a parameter, backtracking when the literal leads nowhere.
    private static func find(_ parts: ArraySlice<Range<Int>>, in path: UnsafeBufferPointer<UInt8>, from node: Node,
                             captured: inout [(String, Range<Int>)]) -> Node? {
        guard let part = parts.first else { return node.handlers.isEmpty ? nil : node }
        if let next = node.literal(UnsafeBufferPointer(rebasing: path[part])),
           let found = find(parts.dropFirst(), in: path, from: next, captured: &captured) {
            return found
        }
        if let (name, next) = node.parameter {
            captured.append((name, part))
            if let found = find(parts.dropFirst(), in: path, from: next, captured: &captured) { return found }
            captured.removeLast()
        }
        return nil
    }

    /// `/api/sites/S1` → the byte ranges of `api`, `sites` and `S1`; nil for a path that does not
    /// start with `/` or has an empty segment (`//`, a trailing slash), which names no resource here.
    static func segments(of path: UnsafeBufferPointer<UInt8>) -> [Range<Int>]? {
        guard path.first == UInt8(ascii: "/") else { return nil }
        var segments: [Range<Int>] = []
        segments.reserveCapacity(6)
        var start = 1
        var index = start
        while index < path.count {
            if path[index] == UInt8(ascii: "/") {
                guard index > start else { return nil }
                segments.append(start..<index)
                start = index + 1
            }
            index += 1
        }
        guard index > start else { return segments.isEmpty && path.count == 1 ? [] : nil }
        segments.append(start..<index)
        return segments
    }
}
