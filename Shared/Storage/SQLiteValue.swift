/// One SQLite value: the five storage classes.
public enum SQLiteValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// A 64-bit signed integer.
    case integer(Int64)
    /// A double-precision float.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Bytes (an empty array is a zero-length blob, not `NULL`).
    case blob([UInt8])

    /// An integer, or `NULL` for `nil`.
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    /// An integer, or `NULL` for `nil`.
    public init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    /// A real, or `NULL` for `nil`.
    public init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
    /// Text, or `NULL` for `nil`.
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    /// A blob, or `NULL` for `nil`.
    public init(_ value: [UInt8]?) { self = value.map { .blob($0) } ?? .null }
    /// `1` or `0` (SQLite has no boolean type), or `NULL` for `nil`.
    public init(_ value: Bool?) { self = value.map { .integer($0 ? 1 : 0) } ?? .null }

    /// Whether this is `NULL`.
    public var isNull: Bool { self == .null }

    /// The integer, if this is an integer.
    public var int64Value: Int64? {
        if case let .integer(value) = self { return value }
        return nil
    }

    /// The number as a `Double`, if this is a real or an integer.
    public var doubleValue: Double? {
        switch self {
        case let .real(value): return value
        case let .integer(value): return Double(value)
        default: return nil
        }
    }

    /// The text, if this is text.
    public var stringValue: String? {
        if case let .text(value) = self { return value }
        return nil
    }

    /// The bytes, if this is a blob.
    public var blobValue: [UInt8]? {
        if case let .blob(value) = self { return value }
        return nil
    }
}

extension SQLiteValue: ExpressibleByNilLiteral {
    /// `nil` is `NULL`.
    public init(nilLiteral: ()) { self = .null }
}

extension SQLiteValue: ExpressibleByIntegerLiteral {
    /// An integer literal is an `.integer`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension SQLiteValue: ExpressibleByFloatLiteral {
    /// A float literal is a `.real`.
    public init(floatLiteral value: Double) { self = .real(value) }
}

extension SQLiteValue: ExpressibleByStringLiteral {
    /// A string literal is `.text`.
    public init(stringLiteral value: String) { self = .text(value) }
}

extension SQLiteValue: ExpressibleByBooleanLiteral {
    /// `true` is `1` and `false` is `0`.
    public init(booleanLiteral value: Bool) { self = .integer(value ? 1 : 0) }
}
