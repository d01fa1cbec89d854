import Foundation
import Testing
@testable import PostgresClient

@Suite struct PostgresQueryTests {
    @Test func interpolatedValuesBecomeNumberedParameters() {
        let id = "01JFKQ4Z7W3M9X0C5T2V8B6N1R", limit = 10
        let query: PostgresQuery = "SELECT name FROM sites WHERE id = \(id) LIMIT \(limit)"
        #expect(query.sql == "SELECT name FROM sites WHERE id = $1 LIMIT $2")
        #expect(query.parameters == [id, "10"])
    }

    @Test func missingValuesAreNull() {
        let none: String? = nil
        let query: PostgresQuery = "SELECT \(none)::text, \(Optional("x"))"
        #expect(query.sql == "SELECT $1::text, $2")
        #expect(query.parameters == [nil, "x"])
    }

    @Test func fragmentsAreRenumberedAfterWhatPrecedesThem() {
        let condition: PostgresQuery = "a = \(1) AND b = \(2)"
        let query: PostgresQuery = "SELECT \(0) FROM t WHERE \(condition) AND c = \(3)"
        #expect(query.sql == "SELECT $1 FROM t WHERE a = $2 AND b = $3 AND c = $4")
        #expect(query.parameters == ["0", "1", "2", "3"])
        let twice: PostgresQuery = "\(condition) OR \(condition)"
        #expect(twice.sql == "a = $1 AND b = $2 OR a = $3 AND b = $4")
    }

    @Test func appendingAndJoiningKeepTheNumbering() {
        var query: PostgresQuery = "SELECT * FROM t WHERE x = \("x")"
        query.append(" AND y = \("y")")
        query.append(unescaped: " ORDER BY ")
        query.append(unescaped: "z")
        #expect(query.sql == "SELECT * FROM t WHERE x = $1 AND y = $2 ORDER BY z")
        let joined = PostgresQuery.joined(["p = \(1)", "q = \(2)", "r"], separator: " OR ")
        #expect(joined.sql == "p = $1 OR q = $2 OR r")
        #expect((("a = \(1)" as PostgresQuery) + " AND b = \(2)").sql == "a = $1 AND b = $2")
    }

    @Test func unescapedTextIsSQLNotAParameter() {
        let column = "referrer_host"
        let query: PostgresQuery = "SELECT \(unescaped: column) FROM events WHERE \(unescaped: column) = \(column)"
        #expect(query.sql == "SELECT referrer_host FROM events WHERE referrer_host = $1")
    }

    @Test func theTextDoesNotDependOnTheValues() {
        func query(_ value: String) -> PostgresQuery { "SELECT \(value), \(value.count)" }
        #expect(query("a").sql == query("a much longer value").sql)
    }

    @Test func aStatementWrittenAgainHasTheSameShape() {
        func query(_ id: String, _ limit: Int?) -> PostgresQuery {
            "SELECT name FROM sites WHERE id = \(id) AND \(condition) LIMIT \(limit)"
        }
        let condition: PostgresQuery = "owner_id = \(7)"
        #expect(query("a", 1).shape == query("a much longer value", nil).shape)
        #expect(query("a", 1).shape.hashValue == query("b", 2).shape.hashValue)
        #expect(query("a", nil).parameters == ["a", "7", nil])
    }

    @Test func differentTextIsADifferentShape() {
        let column = "path", other = "host"
        let a: PostgresQuery = "SELECT \(unescaped: column) FROM t WHERE x = \(1)"
        let b: PostgresQuery = "SELECT \(unescaped: other) FROM t WHERE x = \(1)"
        let c: PostgresQuery = "SELECT \(unescaped: String(column)) FROM t WHERE x = \(1)"
        #expect(a.shape != b.shape)
        #expect(a.shape == c.shape)
        let literal: PostgresQuery = "SELECT 1 WHERE x = \(1)"
        let parameterMoved: PostgresQuery = "SELECT \(1) WHERE x = 1"
        #expect(literal.shape != parameterMoved.shape)
        #expect(literal.sql == "SELECT 1 WHERE x = $1")
    }

    @Test func aOneCharacterLiteralIsText() {
        let query = PostgresQuery.joined(["a", "b"], separator: ",")
        #expect(query.sql == "a,b")
    }

    @Test func valuesAreWrittenAsTextAndNULIsNoticed() {
        let time = Date(timeIntervalSince1970: 1_764_000_000.25)
        let query: PostgresQuery = "SELECT \(time), \(PostgresBytes([0xAB, 0x01])), \(true)"
        #expect(query.parameters == [time.postgresText, "\\xab01", "t"])
        #expect(!query.hasParameterWithNUL)
        let withNUL: PostgresQuery = "SELECT \("a\u{0}b")"
        #expect(withNUL.hasParameterWithNUL)
        #expect(withNUL.parameters == ["a\u{0}b"])
        #expect(("x = \(1) AND " as PostgresQuery + withNUL).hasParameterWithNUL)
    }
}
