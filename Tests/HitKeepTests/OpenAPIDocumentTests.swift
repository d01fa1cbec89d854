import Foundation
import Testing
@testable import HitKeep

/// docs/openapi.json and the router must describe the same API: every route documented, every
/// documented operation routed, with the same methods on the same path patterns and the same
/// parameters (the router refuses a query parameter a route does not declare, so one documented but
/// undeclared would be refused, and one declared but undocumented is unknown to clients).
@Suite struct OpenAPIDocumentTests {
    private static let document = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.json")

    private static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// `path → methods` as the router has them.
    private static func routed() -> [String: Set<String>] {
        var router = Router<Endpoint>()
        Application.addRoutes(to: &router)
        var table: [String: Set<String>] = [:]
        for route in router.routes {
            table[route.pattern, default: []].insert(route.method.rawValue)
        }
        return table
    }

    /// `path → methods` as the document has them.
    private static func documented() throws -> [String: Set<String>] {
        let data = try Data(contentsOf: document)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let paths = try #require(root["paths"] as? [String: Any], "the document has no paths")
        var table: [String: Set<String>] = [:]
        for (path, item) in paths {
            let item = try #require(item as? [String: Any], "path item \(path) is not an object")
            table[path] = Set(item.keys.filter(methods.contains).map { $0.uppercased() })
        }
        return table
    }

    @Test func everyRoutedPathIsDocumented() throws {
        let missing = Set(Self.routed().keys).subtracting(try Self.documented().keys)
        #expect(missing.isEmpty, "routed but not in docs/openapi.json: \(missing.sorted())")
    }

    @Test func everyDocumentedPathIsRouted() throws {
        let extra = Set(try Self.documented().keys).subtracting(Self.routed().keys)
        #expect(extra.isEmpty, "in docs/openapi.json but not routed: \(extra.sorted())")
    }

    @Test func methodsAgreeOnEveryPath() throws {
        let routed = Self.routed(), documented = try Self.documented()
        var differences: [String] = []
        for (path, methods) in routed {
            guard let written = documented[path], written != methods else { continue }
            differences.append("\(path): routed \(methods.sorted()), documented \(written.sorted())")
        }
        #expect(differences.isEmpty, "methods differ: \(differences.sorted())")
    }

    // MARK: Parameters

    /// The document's parameters of one operation, the path item's and its own, `$ref`s resolved.
    private static func documentedParameters(_ method: String, _ path: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: document)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let shared = (root["components"] as? [String: Any])?["parameters"] as? [String: Any] ?? [:]
        let item = try #require((root["paths"] as? [String: Any])?[path] as? [String: Any], "\(path) is not documented")
        let operation = try #require(item[method.lowercased()] as? [String: Any], "\(method) \(path) is not documented")
        let written = (item["parameters"] as? [Any] ?? []) + (operation["parameters"] as? [Any] ?? [])
        return try written.map { entry in
            let parameter = try #require(entry as? [String: Any], "a parameter of \(method) \(path) is not an object")
            guard let reference = parameter["$ref"] as? String else { return parameter }
            let name = try #require(reference.split(separator: "/").last.map(String.init))
            return try #require(shared[name] as? [String: Any], "\(reference) is not in components.parameters")
        }
    }

    @Test func pathParametersAgreeOnEveryOperation() throws {
        var router = Router<Endpoint>()
        Application.addRoutes(to: &router)
        for route in router.routes {
            let inPath = PathPattern(route.pattern).segments.compactMap { segment -> String? in
                if case .parameter(let name) = segment { name } else { nil }
            }
            let documented = try Self.documentedParameters(route.method.rawValue, route.pattern)
                .filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String }
            #expect(Set(documented) == Set(inPath), "\(route.method) \(route.pattern)")
        }
    }

    /// Every query parameter the document gives an operation is one its route declares, and the
    /// other way round, with the same requiredness, repetition, words, bounds and default.
    @Test func queryParametersAgreeOnEveryOperation() throws {
        var router = Router<Endpoint>()
        Application.addRoutes(to: &router)
        for route in router.routes {
            let operation = "\(route.method) \(route.pattern)"
            let documented = try Self.documentedParameters(route.method.rawValue, route.pattern).filter { $0["in"] as? String == "query" }
            // A pattern is a path too, each `{name}` segment standing for a value.
            guard case .matched(let endpoint, _, _) = router.resolve(route.method, path: route.pattern) else {
                Issue.record("\(operation) does not resolve to itself"); continue
            }
            guard let declared = endpoint.queryParameters else {
                // Takes any (monitors' cache busters): nothing the document could name is refused.
                continue
            }
            #expect(documented.compactMap { $0["name"] as? String } == declared.map(\.name), "\(operation): names or order")
            for definition in declared {
                guard let written = documented.first(where: { $0["name"] as? String == definition.name }) else { continue }
                let name = "\(operation) \(definition.name)"
                #expect((written["required"] as? Bool ?? false) == definition.isRequired, "\(name): required")
                var schema = try #require(written["schema"] as? [String: Any], "\(name) has no schema")
                if let count = definition.maximumCount {
                    #expect(schema["type"] as? String == "array" && schema["maxItems"] as? Int == count, "\(name): repetition")
                    schema = schema["items"] as? [String: Any] ?? [:]
                } else {
                    #expect(schema["type"] as? String != "array", "\(name) is documented as repeatable")
                }
                switch definition.values {
                case .oneOf(let words):
                    // The document may list aliases the parser accepts besides (`entry` for `landing`).
                    let listed = Set(schema["enum"] as? [String] ?? [])
                    #expect(Set(words).isSubset(of: listed), "\(name): words \(words) against \(listed.sorted())")
                case .integer(let range):
                    #expect(schema["type"] as? String == "integer", "\(name): type")
                    #expect(schema["minimum"] as? Int == range.lowerBound && schema["maximum"] as? Int == range.upperBound,
                            "\(name): bounds")
                case .text:
                    #expect(schema["enum"] == nil && schema["type"] as? String != "integer", "\(name): text")
                }
                switch definition.defaultValue {
                case .string(let text)?: #expect(schema["default"] as? String == text, "\(name): default")
                case .number(let number)?: #expect((schema["default"] as? NSNumber)?.doubleValue == number, "\(name): default")
                case nil: #expect(schema["default"] == nil, "\(name): a default the route does not declare")
                default: Issue.record("\(name): a default of a kind this test does not compare")
                }
            }
        }
    }
}
