import Foundation
import Testing

/// SQL parameters are numbered by `PostgresQuery` alone: a `$1` written by hand is one that a later
/// change can miscount, and the mistake would show only at run time.
@Suite struct SQLParameterConventionTests {
    /// The repository's `Sources` folder, found from this file's own path.
    private static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    @Test func noSourceOutsidePostgresQueryNumbersParameters() throws {
        let files = try #require(FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" && $0.lastPathComponent != "PostgresQuery.swift" }
        #expect(files.count > 50, "the sources were not found at \(Self.sources.path)")
        var offenders: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for (line, literal) in StringLiterals.in(text) where literal.contains(/\$[0-9]/) {
                offenders.append("\(file.lastPathComponent):\(line): \(literal.prefix(80))")
            }
        }
        #expect(offenders.isEmpty, "hand-numbered SQL parameters: \(offenders)")
    }

    @Test func theScannerFindsLiteralsAndSkipsCodeAndComments() {
        let source = #"""
            let a = "x = $1" // a comment with $2
            let b = items.map { $0 }
            let c = """
                WHERE y = $3 AND \(values.map { $0 })
                """
            let d = "\(z.map { $0 }) ok"
            """#
        #expect(StringLiterals.in(source).map(\.text).filter { $0.contains(/\$[0-9]/) }
                == ["x = $1", "\n    WHERE y = $3 AND \n    "])
    }
}

/// The text of a Swift file's string literals, with the code of their interpolations left out.
enum StringLiterals {
    static func `in`(_ source: String) -> [(line: Int, text: String)] {
        let characters = Array(source)
        var literals: [(line: Int, text: String)] = []
        var index = 0, line = 1
        func peek(_ offset: Int) -> Character? {
            index + offset < characters.count ? characters[index + offset] : nil
        }
        while index < characters.count {
            let character = characters[index]
            if character == "\n" { line += 1 }
            if character == "/" && peek(1) == "/" {
                while index < characters.count && characters[index] != "\n" { index += 1 }
                continue
            }
            guard character == "\"" else { index += 1; continue }
            let multiline = peek(1) == "\"" && peek(2) == "\""
            let start = line
            index += multiline ? 3 : 1
            var text = ""
            while index < characters.count {
                let current = characters[index]
                if current == "\\" && peek(1) == "(" {
                    // Skip the interpolation's code, parentheses balanced.
                    var depth = 0
                    index += 1
                    repeat {
                        if characters[index] == "(" { depth += 1 }
                        if characters[index] == ")" { depth -= 1 }
                        index += 1
                    } while depth > 0 && index < characters.count
                    continue
                }
                if current == "\\" { text.append(current); text.append(peek(1) ?? " "); index += 2; continue }
                if current == "\"" && (!multiline || (peek(1) == "\"" && peek(2) == "\"")) {
                    index += multiline ? 3 : 1
                    break
                }
                if current == "\n" { line += 1 }
                text.append(current)
                index += 1
            }
            literals.append((start, text))
        }
        return literals
    }
}
