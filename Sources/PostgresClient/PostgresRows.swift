#if canImport(Glibc)
import Glibc
#endif

/// The rows a statement returned, copied out of libpq before its result was cleared.
///
/// Everything is copied into one byte buffer: column names, then the values row by row, each with
/// its range. A value becomes a Swift string only when a row is decoded, and a column is found by
/// comparing bytes, so a result costs two allocations however many columns it has, instead of a
/// string for every name and every value.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// Where a name or a value lies in `bytes`; a NULL value has `start` -1.
    @usableFromInline struct Span: Sendable {
        @usableFromInline var start: Int32
        @usableFromInline var end: Int32
    }

    @usableFromInline let bytes: [UInt8]
    /// The column names first, then the values of each row.
    @usableFromInline let spans: [Span]
    @usableFromInline let columnCount: Int
    /// The number of rows a command touched (`UPDATE 3` → 3), or 0.
    public let affectedRows: Int

    init(bytes: [UInt8], spans: [Span], columnCount: Int, affectedRows: Int) {
        self.bytes = bytes
        self.spans = spans
        self.columnCount = columnCount
        self.affectedRows = affectedRows
    }

    /// No rows, no columns: what a command without results returns.
    init(affectedRows: Int) {
        self.init(bytes: [], spans: [], columnCount: 0, affectedRows: affectedRows)
    }

    public var columns: [String] {
        (0..<columnCount).map(columnName)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { columnCount == 0 ? 0 : spans.count / columnCount - 1 }

    public subscript(position: Int) -> PostgresRow {
        PostgresRow(rows: self, offset: (position + 1) * columnCount)
    }

    @usableFromInline func value(at index: Int) -> String? {
        string(spans[index])
    }

    @usableFromInline func isNull(at index: Int) -> Bool {
        spans[index].start < 0
    }

    @usableFromInline func columnName(_ index: Int) -> String {
        string(spans[index]) ?? ""
    }

    @usableFromInline func columnIndex(_ name: String) -> Int? {
        var name = name
        return name.withUTF8 { wanted in
            bytes.withUnsafeBufferPointer { buffer in
                for column in 0..<columnCount {
                    let span = spans[column]
                    guard Int(span.end - span.start) == wanted.count else { continue }
                    if wanted.isEmpty || memcmp(buffer.baseAddress! + Int(span.start), wanted.baseAddress!, wanted.count) == 0 {
                        return column
                    }
                }
                return nil
            }
        }
    }

    private func string(_ span: Span) -> String? {
        guard span.start >= 0 else { return nil }
        return bytes.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[Int(span.start)..<Int(span.end)]), as: UTF8.self)
        }
    }
}

/// One row: read columns by position or by name.
///
/// The decoding methods are inlinable so that callers get them specialised for the type they
/// read, rather than going through generic metadata on every column of every row.
public struct PostgresRow: Sendable {
    @usableFromInline let rows: PostgresRows
    /// Where this row's values start among the spans.
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
            throw PostgresError(kind: .decoding, message: "column \(rows.columnName(index)) is NULL")
        }
        guard let value = T(postgresText: text) else {
            throw PostgresError(kind: .decoding, message: "column \(rows.columnName(index)) is not a \(T.self)")
        }
        return value
    }

    /// Decodes a column that may be NULL.
    @inlinable
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type = T.self, _ column: String) throws -> T? {
        guard let index = rows.columnIndex(column) else {
            throw PostgresError(kind: .decoding, message: "no column \(column)")
        }
        guard !rows.isNull(at: offset + index) else { return nil }
        return try decode(type, at: index)
    }
}
