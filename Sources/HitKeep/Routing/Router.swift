import HTTPTypes

/// Routes as data: a method and a path pattern to a handler, kept as a tree of path segments so a
/// lookup costs one dictionary probe per segment, however many routes there are.
public struct Router<Handler: Sendable>: Sendable {
    public enum Resolution {
        case matched(Handler, parameters: [String: String])
        /// The path exists, but not for this method; the methods that do exist, for `Allow`.
        case methodNotAllowed(allowed: [HTTPRequest.Method])
        case notFound
    }

    private final class Node: @unchecked Sendable {
        // Built once before serving and only read afterwards.
        var literals: [Substring: Node] = [:]
        var parameter: (name: String, node: Node)?
        var handlers: [(method: HTTPRequest.Method, handler: Handler)] = []
    }

    private let root = Node()

    public init() {}

    public mutating func add(_ method: HTTPRequest.Method, _ pattern: String, _ handler: Handler) {
        var node = root
        for segment in PathPattern(pattern).segments {
            switch segment {
            case .literal(let literal):
                let key = Substring(literal)
                if let next = node.literals[key] {
                    node = next
                } else {
                    let next = Node()
                    node.literals[key] = next
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
        node.handlers.append((method, handler))
    }

    public func resolve(_ method: HTTPRequest.Method, path: String) -> Resolution {
        guard let parts = Self.segments(of: path) else { return .notFound }
        var captured: [(String, Substring)] = []
        guard let node = Self.find(parts[...], from: root, captured: &captured), !node.handlers.isEmpty else {
            return .notFound
        }
        guard let route = node.handlers.first(where: { $0.method == method }) else {
            return .methodNotAllowed(allowed: node.handlers.map(\.method))
        }
        var parameters: [String: String] = [:]
        for (name, value) in captured { parameters[name] = String(value) }
        return .matched(route.handler, parameters: parameters)
    }

    /// Literal segments are tried before a parameter, backtracking when the literal leads nowhere.
    private static func find(_ parts: ArraySlice<Substring>, from node: Node,
                             captured: inout [(String, Substring)]) -> Node? {
        guard let part = parts.first else { return node.handlers.isEmpty ? nil : node }
        if let next = node.literals[part], let found = find(parts.dropFirst(), from: next, captured: &captured) {
            return found
        }
        if let (name, next) = node.parameter {
            captured.append((name, part))
            if let found = find(parts.dropFirst(), from: next, captured: &captured) { return found }
            captured.removeLast()
        }
        return nil
    }

    /// `/api/sites/S1` → `["api", "sites", "S1"]`; nil for a path that does not start with `/` or has
    /// an empty segment (`//`, a trailing slash), which names no resource here.
    static func segments(of path: String) -> [Substring]? {
        let bytes = path.utf8
        guard bytes.first == UInt8(ascii: "/") else { return nil }
        var segments: [Substring] = []
        segments.reserveCapacity(6)
        var start = bytes.index(after: bytes.startIndex)
        var index = start
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "/") {
                guard index > start else { return nil }
                segments.append(path[start..<index])
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        guard index > start else { return segments.isEmpty && bytes.count == 1 ? [] : nil }
        segments.append(path[start..<index])
        return segments
    }
}
