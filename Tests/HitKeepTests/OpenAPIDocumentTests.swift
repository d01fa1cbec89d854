import Foundation
import Testing
@testable import HitKeep

/// docs/openapi.json and the router must describe the same API: every route documented, every
/// documented operation routed, with the same methods on the same path patterns.
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
}
