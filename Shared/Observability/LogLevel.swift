/// The severity of a log line, from least to most severe.
///
/// Levels are `Comparable`: a ``Logger`` writes a line when its level is at least the
/// logger's ``Logger/minimumLevel``.
public enum LogLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Detail useful only while debugging.
    case debug = 0
    /// Normal operation worth recording (start, stop, one line per request).
    case info = 1
    /// Something unexpected that the service survived.
    case warning = 2
    /// A failure that needs attention.
    case error = 3

    /// The name written in the `level` field: `debug`, `info`, `warning` or `error`.
    public var name: String {
        switch self {
        case .debug: return "debug"
        case .info: return "info"
        case .warning: return "warning"
        case .error: return "error"
        }
    }

    /// Same as ``name``.
    public var description: String { name }

    /// Parses a level name as found in configuration, ignoring case and surrounding spaces.
    ///
    /// Accepts `debug`, `info`, `warning` (also `warn`) and `error` (also `err`).
    /// Returns `nil` for anything else.
    public init?(parsing text: String) {
        switch text.trimmingOWS().lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error", "err": self = .error
        default: return nil
        }
    }

    /// Orders levels by severity.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}
