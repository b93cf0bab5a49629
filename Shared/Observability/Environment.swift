#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Typed access to configuration variables that collects problems instead of stopping.
///
/// Read every setting, then call ``validate()`` once: it throws a single
/// ``ConfigurationError`` listing every missing or malformed variable. Each getter returns a
/// usable value even when the variable is bad (the default), so reading can continue.
/// Everything read is recorded for ``summary``, which prints the resolved settings with
/// secrets hidden.
///
/// ```swift
/// let env = Environment()
/// let port = env.int("PORT", default: 8080, range: 1...65535)
/// let timeout = env.duration("REQUEST_TIMEOUT", default: .seconds(30))
/// let signingKey = env.secret("SIGNING_KEY", required: true)
/// for line in env.summary.lines { logger.info(line) }
/// try env.validate()
/// ```
///
/// For every getter except ``string(_:default:)``, surrounding whitespace is ignored and an
/// empty value counts as unset.
public final class Environment: Sendable {
    /// The raw variables.
    public let values: [String: String]

    private struct State {
        var problems: [String] = []
        var entries: [String: ConfigurationSummary.Entry] = [:]
    }

    private let state = Mutex(State())

    /// Wraps `values`; by default the process environment.
    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    // MARK: - Getters

    /// The variable as is (not trimmed; an empty value counts as set), or `defaultValue`.
    public func string(_ key: String, default defaultValue: String) -> String {
        if let raw = values[key] {
            record(key, display: raw, source: .env, maskIfSensitiveName: true)
            return raw
        }
        record(key, display: defaultValue, source: .default, maskIfSensitiveName: true)
        return defaultValue
    }

    /// The trimmed variable, or `nil` when unset or empty. When `required` is true, a missing
    /// value is recorded as a problem.
    public func string(_ key: String, required: Bool = false) -> String? {
        if let raw = trimmedValue(key) {
            record(key, display: raw, source: .env, maskIfSensitiveName: true)
            return raw
        }
        if required { recordProblem("\(key): required but not set") }
        record(key, display: "<unset>", source: .default, maskIfSensitiveName: true)
        return nil
    }

    /// An integer, optionally limited to `range`; otherwise `defaultValue` and a recorded problem.
    public func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>? = nil) -> Int {
        guard let raw = trimmedValue(key) else {
            record(key, display: String(defaultValue), source: .default)
            return defaultValue
        }
        guard let value = Int(raw) else {
            recordProblem("\(key): expected an integer, got \(Self.quote(raw))")
            record(key, display: String(defaultValue), source: .default)
            return defaultValue
        }
        if let range, !range.contains(value) {
            recordProblem("\(key): expected an integer in \(range.lowerBound)...\(range.upperBound), got \(value)")
            record(key, display: String(defaultValue), source: .default)
            return defaultValue
        }
        record(key, display: String(value), source: .env)
        return value
    }

    /// A floating-point number, optionally limited to `range`; otherwise `defaultValue` and a
    /// recorded problem.
    public func double(_ key: String, default defaultValue: Double, range: ClosedRange<Double>? = nil) -> Double {
        guard let raw = trimmedValue(key) else {
            record(key, display: String(defaultValue), source: .default)
            return defaultValue
        }
        guard let value = Double(raw), value.isFinite else {
            recordProblem("\(key): expected a number, got \(Self.quote(raw))")
            record(key, display: String(defaultValue), source: .default)
            return defaultValue
        }
        if let range, !range.contains(value) {
            recordProblem("\(key): expected a number in \(range.lowerBound)...\(range.upperBound), got \(value)")
            record(key, display: String(defaultValue), source: .default)
            return defaultValue
        }
        record(key, display: String(value), source: .env)
        return value
    }

    /// A boolean: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` in any case; otherwise
    /// `defaultValue` and a recorded problem.
    public func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let raw = trimmedValue(key) else {
            record(key, display: String(defaultValue), source: .default)
            return defaultValue
        }
        let value: Bool
        switch raw.lowercased() {
        case "true", "1", "yes", "on": value = true
        case "false", "0", "no", "off": value = false
        default:
            recordProblem("\(key): expected a boolean (true/false, 1/0, yes/no, on/off), got \(Self.quote(raw))")
            record(key, display: String(defaultValue), source: .default)
            return defaultValue
        }
        record(key, display: String(value), source: .env)
        return value
    }

    /// A duration: `30s`, `500ms`, `2m`, `1h`, combinations such as `1m30s` (units `ns`, `us`,
    /// `ms`, `s`, `m`, `h`), or a plain non-negative number of seconds (`30`, `0.25`);
    /// otherwise `defaultValue` and a recorded problem.
    public func duration(_ key: String, default defaultValue: Duration) -> Duration {
        guard let raw = trimmedValue(key) else {
            record(key, display: DurationText.format(defaultValue), source: .default)
            return defaultValue
        }
        guard let value = DurationText.parse(raw) else {
            recordProblem("\(key): expected a duration such as 30s, 500ms, 2m or a number of seconds, got \(Self.quote(raw))")
            record(key, display: DurationText.format(defaultValue), source: .default)
            return defaultValue
        }
        record(key, display: DurationText.format(value), source: .env)
        return value
    }

    /// An absolute URL (with a scheme, and a host for `http`, `https`, `ws` and `wss`),
    /// optionally limited to `schemes`. Unset gives `defaultValue` parsed the same way
    /// (`nil` when there is none); a malformed value gives the default and a recorded
    /// problem; with `required`, a missing value is a problem too.
    public func url(
        _ key: String, default defaultValue: String? = nil, schemes: Set<String>? = nil, required: Bool = false
    ) -> URL? {
        if let raw = trimmedValue(key) {
            if let url = Self.parseURL(raw, schemes: schemes) {
                record(key, display: Self.maskPassword(raw), source: .env)
                return url
            }
            let allowed = schemes.map { " (" + $0.sorted().joined(separator: ", ") + ")" } ?? ""
            recordProblem("\(key): expected an absolute URL\(allowed), got \(Self.quote(Self.maskPassword(raw)))")
        } else if required {
            recordProblem("\(key): required but not set")
        }
        guard let defaultValue else {
            record(key, display: "<unset>", source: .default)
            return nil
        }
        guard let url = Self.parseURL(defaultValue, schemes: schemes) else {
            recordProblem("\(key): the default \(Self.quote(Self.maskPassword(defaultValue))) is not a valid URL")
            record(key, display: "<unset>", source: .default)
            return nil
        }
        record(key, display: Self.maskPassword(defaultValue), source: .default)
        return url
    }

    /// A comma-separated list; items are trimmed and empty items dropped
    /// (`"a, b,,c"` gives `["a", "b", "c"]`).
    public func list(_ key: String, default defaultValue: [String] = []) -> [String] {
        guard let raw = trimmedValue(key) else {
            record(key, display: defaultValue.joined(separator: ","), source: .default, maskIfSensitiveName: true)
            return defaultValue
        }
        let items = raw.split(separator: ",").map { String($0).trimmingOWS() }.filter { !$0.isEmpty }
        record(key, display: items.joined(separator: ","), source: .env, maskIfSensitiveName: true)
        return items
    }

    /// A secret such as a password or key; shown as `***` in ``summary`` and never placed in
    /// a problem message. Returns `nil` when unset or empty; with `required`, that is a problem.
    public func secret(_ key: String, required: Bool = false) -> Secret? {
        if let raw = trimmedValue(key) {
            record(key, display: "***", source: .env, isSecret: true)
            return Secret(raw)
        }
        if required { recordProblem("\(key): required but not set") }
        record(key, display: "<unset>", source: .default, isSecret: true)
        return nil
    }

    /// The minimum log level: `debug`, `info`, `warning` (`warn`) or `error` (`err`), any case.
    public func logLevel(_ key: String = "LOG_LEVEL", default defaultValue: LogLevel = .info) -> LogLevel {
        value(key, default: defaultValue, expected: "one of debug, info, warning, error", parse: LogLevel.init(parsing:))
    }

    /// A value of any type: `parse` turns the trimmed text into a value or returns `nil`, in
    /// which case `expected` (such as `"one of a, b"`) goes into the recorded problem.
    public func value<T>(
        _ key: String, default defaultValue: T, expected: String,
        describe: (T) -> String = { String(describing: $0) }, parse: (String) -> T?
    ) -> T {
        guard let raw = trimmedValue(key) else {
            record(key, display: describe(defaultValue), source: .default)
            return defaultValue
        }
        guard let value = parse(raw) else {
            recordProblem("\(key): expected \(expected), got \(Self.quote(raw))")
            record(key, display: describe(defaultValue), source: .default)
            return defaultValue
        }
        record(key, display: describe(value), source: .env)
        return value
    }

    // MARK: - Results

    /// Records a problem found by the caller (for example, two settings that contradict each
    /// other), to be reported by ``validate()`` with the rest.
    public func recordProblem(_ message: String) {
        state.withLock { $0.problems.append(message) }
    }

    /// The problems recorded so far, in order.
    public var problems: [String] { state.withLock { $0.problems } }

    /// Every setting read so far, sorted by key, with secrets hidden.
    public var summary: ConfigurationSummary {
        ConfigurationSummary(entries: state.withLock { Array($0.entries.values) })
    }

    /// Throws one ``ConfigurationError`` listing every recorded problem; does nothing when
    /// there are none.
    public func validate() throws(ConfigurationError) {
        let problems = self.problems
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }

    // MARK: - Helpers

    private func trimmedValue(_ key: String) -> String? {
        guard let raw = values[key] else { return nil }
        let trimmed = raw.trimmingOWS()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Records a resolved setting for the summary. String-valued settings whose name looks
    /// sensitive by ``Redaction/standard`` (such as `DB_PASSWORD` read with ``string(_:default:)``)
    /// are hidden like secrets, as a safety net.
    private func record(
        _ key: String, display: String, source: ConfigurationSummary.Source, isSecret: Bool = false,
        maskIfSensitiveName: Bool = false
    ) {
        var isSecret = isSecret
        var display = display
        if !isSecret, maskIfSensitiveName, Redaction.standard.isSensitive(key) {
            isSecret = true
        }
        if isSecret, display != "<unset>" { display = "***" }
        let entry = ConfigurationSummary.Entry(key: key, displayValue: display, source: source, isSecret: isSecret)
        state.withLock { state in
            // A key read once as a secret stays hidden even if read again another way.
            if let existing = state.entries[key], existing.isSecret, !isSecret { return }
            state.entries[key] = entry
        }
    }

    /// Quotes a raw value for a problem message, cut to 64 characters.
    private static func quote(_ raw: String) -> String {
        let cut = raw.count > 64 ? String(raw.prefix(64)) + "…" : raw
        return cut.debugDescription
    }

    private static func parseURL(_ text: String, schemes: Set<String>?) -> URL? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), !scheme.isEmpty else { return nil }
        if let schemes, !schemes.contains(scheme) { return nil }
        if ["http", "https", "ws", "wss"].contains(scheme) {
            guard let host = url.host, !host.isEmpty else { return nil }
        }
        return url
    }

    /// Replaces the password in `scheme://user:password@host` with `***`.
    static func maskPassword(_ text: String) -> String {
        guard let schemeEnd = text.firstRange(of: "://") else { return text }
        let authorityStart = schemeEnd.upperBound
        let authorityEnd = text[authorityStart...].firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? text.endIndex
        let authority = text[authorityStart..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"),
              let colon = authority[authority.startIndex..<at].firstIndex(of: ":")
        else { return text }
        return String(text[text.startIndex...colon]) + "***" + String(text[at...])
    }
}
