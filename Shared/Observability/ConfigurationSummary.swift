/// The resolved configuration of a service, for printing at startup.
///
/// Each setting becomes one line, `KEY=value (default)` or `KEY=value (env)`, sorted by
/// key. Secrets are always shown as `***`, never their value; passwords inside URLs are
/// masked the same way.
public struct ConfigurationSummary: Sendable, Hashable, CustomStringConvertible {
    /// Where a resolved value came from.
    public enum Source: String, Sendable, Hashable {
        /// The variable was unset, empty or invalid, so the default was used.
        case `default`
        /// The variable was set and valid.
        case env
    }

    /// One resolved setting.
    public struct Entry: Sendable, Hashable {
        /// The variable name.
        public var key: String
        /// The value as shown: `***` for secrets, `<unset>` when there is no value.
        public var displayValue: String
        /// Where the value came from.
        public var source: Source
        /// Whether the value is a secret (and therefore hidden).
        public var isSecret: Bool

        /// Creates an entry.
        public init(key: String, displayValue: String, source: Source, isSecret: Bool) {
            self.key = key
            self.displayValue = displayValue
            self.source = source
            self.isSecret = isSecret
        }

        /// `KEY=value (source)`.
        public var line: String { "\(key)=\(displayValue) (\(source.rawValue))" }
    }

    /// The settings, sorted by key.
    public let entries: [Entry]

    /// Creates a summary; entries are sorted by key.
    public init(entries: [Entry]) {
        self.entries = entries.sorted { $0.key < $1.key }
    }

    /// One `KEY=value (default|env)` line per setting.
    public var lines: [String] { entries.map(\.line) }

    /// The lines joined with newlines.
    public var description: String { lines.joined(separator: "\n") }
}
