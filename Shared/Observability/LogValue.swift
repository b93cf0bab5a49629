/// A value attached to a log line as metadata.
///
/// Literals convert directly, so metadata reads naturally:
/// `["status": 200, "path": "/v1/x", "cached": true, "ratio": 0.5]`.
/// String interpolation works too: `["peer": "\(address)"]`.
public enum LogValue: Sendable, Hashable, CustomStringConvertible {
    /// A string, written as a JSON string.
    case string(String)
    /// An integer, written as a JSON number.
    case int(Int)
    /// A floating-point number, written as a JSON number; NaN and infinities are
    /// written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` because JSON has no
    /// literal for them.
    case double(Double)
    /// A boolean, written as `true` or `false`.
    case bool(Bool)

    /// The value as plain text, without JSON quoting.
    public var description: String {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .double(let value): return value.description
        case .bool(let value): return value ? "true" : "false"
        }
    }
}

extension LogValue: ExpressibleByStringLiteral {
    /// Creates a ``LogValue/string(_:)`` from a literal.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension LogValue: ExpressibleByStringInterpolation {}

extension LogValue: ExpressibleByIntegerLiteral {
    /// Creates a ``LogValue/int(_:)`` from a literal.
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension LogValue: ExpressibleByFloatLiteral {
    /// Creates a ``LogValue/double(_:)`` from a literal.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension LogValue: ExpressibleByBooleanLiteral {
    /// Creates a ``LogValue/bool(_:)`` from a literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
