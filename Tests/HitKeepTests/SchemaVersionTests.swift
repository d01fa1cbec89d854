import Foundation
import Testing
@testable import HitKeep

/// A new migration raises the schema that connections require: a build whose statements need it
/// must not serve a database without it.
@Suite struct SchemaVersionTests {
    private static let migrations = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("migrations")

    @Test func theRequiredVersionIsTheLastMigration() throws {
        let versions = try FileManager.default.contentsOfDirectory(atPath: Self.migrations.path)
            .filter { $0.hasSuffix(".sql") }
            .compactMap { Int($0.prefix(4)) }
        let last = try #require(versions.max(), "no migrations at \(Self.migrations.path)")
        #expect(SchemaVersion.required == last)
    }

    @Test func theRefusalNamesBothVersionsAndTheCommand() {
        let behind = SchemaBehind(applied: 47, required: 48)
        #expect(behind.description.contains("47") && behind.description.contains("48"))
        #expect(behind.description.contains("hitkeep migrate"))
    }
}
