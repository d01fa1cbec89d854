/// The rows a statement returned, copied out of libpq before its result was cleared.
public struct PostgresRows: Sendable, RandomAccessCollection {
    public let columns: [String]
    @usableFromInline let values: [String?]
    /// The number of rows a command touched (`UPDATE 3` → 3), or 0.
    public let affectedRows: Int

    init(columns: [String], values: [String?], affectedRows: Int) {
        self.columns = columns
        self.values = values
        self.affectedRows = affectedRows
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { columns.isEmpty ? 0 : values.count / columns.count }

    public subscript(position: Int) -> PostgresRow {
        PostgresRow(rows: self, offset: position * columns.count)
    }

    @inlinable func value(at index: Int) -> String? { values[index] }
    @inlinable func columnIndex(_ name: String) -> Int? { columns.firstIndex(of: name) }
}

/// One row: read columns by position or by name.
///
/// The decoding methods are inlinable so that callers get them specialised for the type they
/// read, rather than going through generic metadata on every column of every row.
public struct PostgresRow: Sendable {
    @usableFromInline let rows: PostgresRows
    @usableFromInline let offset: Int

    init(rows: PostgresRows, offset: Int) {
        self.rows = rows
        self.offset = offset
    }

    /// The raw text of a column, or nil for SQL NULL.
    public subscript(_ column: Int) -> String? {
        rows.value(at: offset + column)
    }

    public subscript(_ column: String) -> String? {
        guard let index = rows.columnIndex(column) else { return nil }
        return rows.value(at: offset + index)
    }

    /// Decodes a column that must not be NULL.
    @inlinable
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ column: String) throws -> T {
        guard let index = rows.columnIndex(column) else {
            throw PostgresError(kind: .decoding, message: "no column \(column)")
        }
        return try decode(type, at: index)
    }

    @inlinable
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at index: Int) throws -> T {
        guard let text = rows.value(at: offset + index) else {
            throw PostgresError(kind: .decoding, message: "column \(rows.columns[index]) is NULL")
        }
        guard let value = T(postgresText: text) else {
            throw PostgresError(kind: .decoding, message: "column \(rows.columns[index]) is not a \(T.self)")
        }
        return value
    }

    /// Decodes a column that may be NULL.
    @inlinable
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type = T.self, _ column: String) throws -> T? {
        guard let index = rows.columnIndex(column) else {
            throw PostgresError(kind: .decoding, message: "no column \(column)")
        }
        guard rows.value(at: offset + index) != nil else { return nil }
        return try decode(type, at: index)
    }
}
