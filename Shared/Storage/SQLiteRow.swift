/// One result row, with typed accessors by column name or index.
///
/// Accessors return `nil` for `NULL`, a missing column, or a value of another storage class:
/// `int`/`int64`/`bool` read integers; `double` reads reals and integers; `string` reads text;
/// `blob` reads blobs. Column names match exactly first, then case-insensitively (as SQL does).
public struct SQLiteRow: Sendable, Hashable {
    /// Column names, in result order.
    public let columns: [String]
    /// Values, in result order.
    public let values: [SQLiteValue]

    /// Creates a row; `columns` and `values` should have the same length.
    public init(columns: [String], values: [SQLiteValue]) {
        self.columns = columns
        self.values = values
    }

    /// The index of the first column called `name`.
    public func index(of name: String) -> Int? {
        if let exact = columns.firstIndex(of: name) { return exact }
        let lowered = name.lowercased()
        return columns.firstIndex { $0.lowercased() == lowered }
    }

    /// The value in column `name`, or `nil` if there is no such column.
    public subscript(_ name: String) -> SQLiteValue? {
        index(of: name).flatMap { self[$0] }
    }

    /// The value at `index`, or `nil` if out of range.
    public subscript(_ index: Int) -> SQLiteValue? {
        values.indices.contains(index) ? values[index] : nil
    }

    /// Whether column `name` is missing or `NULL`.
    public func isNull(_ name: String) -> Bool { (self[name] ?? .null).isNull }

    /// Integer column as `Int`.
    public func int(_ name: String) -> Int? { self[name]?.int64Value.flatMap { Int(exactly: $0) } }
    /// Integer column as `Int`.
    public func int(_ index: Int) -> Int? { self[index]?.int64Value.flatMap { Int(exactly: $0) } }
    /// Integer column.
    public func int64(_ name: String) -> Int64? { self[name]?.int64Value }
    /// Integer column.
    public func int64(_ index: Int) -> Int64? { self[index]?.int64Value }
    /// Real (or integer) column.
    public func double(_ name: String) -> Double? { self[name]?.doubleValue }
    /// Real (or integer) column.
    public func double(_ index: Int) -> Double? { self[index]?.doubleValue }
    /// Text column.
    public func string(_ name: String) -> String? { self[name]?.stringValue }
    /// Text column.
    public func string(_ index: Int) -> String? { self[index]?.stringValue }
    /// Blob column.
    public func blob(_ name: String) -> [UInt8]? { self[name]?.blobValue }
    /// Blob column.
    public func blob(_ index: Int) -> [UInt8]? { self[index]?.blobValue }
    /// Integer column as a boolean (0 is `false`, anything else `true`).
    public func bool(_ name: String) -> Bool? { self[name]?.int64Value.map { $0 != 0 } }
    /// Integer column as a boolean (0 is `false`, anything else `true`).
    public func bool(_ index: Int) -> Bool? { self[index]?.int64Value.map { $0 != 0 } }
}
