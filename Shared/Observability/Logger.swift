/// A structured logger that writes one JSON object per line.
///
/// Every line has, in this order: `ts` (RFC 3339 UTC with milliseconds), `level`,
/// `service`, `msg`, then `request_id` and `trace_id` when set, then metadata — first the
/// logger's own (sorted by key), then the line's (sorted by key; a line's key overrides
/// the logger's). For example:
///
/// ```
/// {"ts":"2024-03-05T07:08:09.123Z","level":"info","service":"auth","msg":"login","request_id":"r1","user":"ann"}
/// ```
///
/// `Logger` is a cheap value type: ``with(requestID:)``, ``with(traceID:)`` and ``with(_:)``
/// return adjusted copies, so a request handler can carry its own logger. Metadata values
/// under sensitive keys (see ``Redaction``) are replaced with `"[redacted]"`. Metadata keys
/// equal to a fixed field name (`ts`, `level`, `service`, `msg`, `request_id`, `trace_id`)
/// are written with a leading underscore so the object never has duplicate keys.
///
/// By default lines go to standard error through ``FileDescriptorLogSink/standardError``,
/// one `write(2)` per line.
public struct Logger: Sendable {
    /// The service name written in the `service` field.
    public let service: String
    /// Lines below this level are skipped without evaluating their message or metadata.
    public var minimumLevel: LogLevel
    /// The request id written as `request_id`, if any.
    public private(set) var requestID: String?
    /// The trace id written as `trace_id`, if any.
    public private(set) var traceID: String?
    /// Where finished lines go.
    public let sink: any LogSink
    /// The redaction rules applied to metadata keys.
    public let redaction: Redaction

    private let clock: @Sendable () -> WallClockTime
    /// The logger's metadata, already redacted, sorted by key.
    private var storedMetadata: [(key: String, value: LogValue)] = []

    /// Creates a logger.
    ///
    /// - Parameters:
    ///   - service: The value of the `service` field.
    ///   - minimumLevel: The least severe level written; use ``Environment/logLevel(_:default:)``
    ///     to take it from configuration.
    ///   - sink: Where lines go; standard error by default.
    ///   - redaction: Which metadata keys to redact.
    ///   - clock: The source of timestamps; tests can pass a fixed time.
    public init(
        service: String,
        minimumLevel: LogLevel = .info,
        sink: any LogSink = FileDescriptorLogSink.standardError,
        redaction: Redaction = .standard,
        clock: @escaping @Sendable () -> WallClockTime = WallClockTime.now
    ) {
        self.service = service
        self.minimumLevel = minimumLevel
        self.sink = sink
        self.redaction = redaction
        self.clock = clock
    }

    /// The logger's metadata after redaction.
    public var metadata: [String: LogValue] {
        Dictionary(storedMetadata.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// A copy that writes `request_id` (or omits it when `nil`).
    public func with(requestID: String?) -> Logger {
        var copy = self
        copy.requestID = requestID
        return copy
    }

    /// A copy that writes `trace_id` (or omits it when `nil`).
    public func with(traceID: String?) -> Logger {
        var copy = self
        copy.traceID = traceID
        return copy
    }

    /// A copy that writes the trace id of `trace` as `trace_id`.
    public func with(trace: TraceContext) -> Logger {
        with(traceID: trace.traceID)
    }

    /// A copy with `metadata` added to every line; keys already present are replaced.
    /// Sensitive values are redacted now, once, rather than on every line.
    public func with(_ metadata: [String: LogValue]) -> Logger {
        guard !metadata.isEmpty else { return self }
        var merged = self.metadata
        for (key, value) in metadata {
            merged[key] = redaction.redact(key, value)
        }
        var copy = self
        copy.storedMetadata = merged.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
        return copy
    }

    /// A copy with a different minimum level.
    public func with(minimumLevel: LogLevel) -> Logger {
        var copy = self
        copy.minimumLevel = minimumLevel
        return copy
    }

    /// Whether a line at `level` would be written.
    @inline(__always)
    public func isEnabled(_ level: LogLevel) -> Bool { level >= minimumLevel }

    /// Writes a line at `level` when the level is enabled.
    ///
    /// The message and metadata are only evaluated when the line is written.
    public func log(
        _ level: LogLevel,
        _ message: @autoclosure () -> String,
        _ metadata: @autoclosure () -> [String: LogValue] = [:]
    ) {
        guard isEnabled(level) else { return }
        sink.write(encode(level: level, message: message(), metadata: metadata(), time: clock()))
    }

    /// Writes a `debug` line.
    public func debug(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        guard isEnabled(.debug) else { return }
        sink.write(encode(level: .debug, message: message(), metadata: metadata(), time: clock()))
    }

    /// Writes an `info` line.
    public func info(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        guard isEnabled(.info) else { return }
        sink.write(encode(level: .info, message: message(), metadata: metadata(), time: clock()))
    }

    /// Writes a `warning` line.
    public func warning(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        guard isEnabled(.warning) else { return }
        sink.write(encode(level: .warning, message: message(), metadata: metadata(), time: clock()))
    }

    /// Writes an `error` line.
    public func error(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> [String: LogValue] = [:]) {
        guard isEnabled(.error) else { return }
        sink.write(encode(level: .error, message: message(), metadata: metadata(), time: clock()))
    }

    private static func isReserved(_ key: String) -> Bool {
        switch key {
        case "ts", "level", "service", "msg", "request_id", "trace_id": return true
        default: return false
        }
    }

    private static func outputKey(_ key: String) -> String {
        isReserved(key) ? "_" + key : key
    }

    /// Builds the bytes of one line, newline included.
    func encode(level: LogLevel, message: String, metadata lineMetadata: [String: LogValue], time: WallClockTime) -> [UInt8] {
        var writer = JSONLineWriter(capacity: 160 + message.utf8.count)
        writer.field("ts", time)
        writer.field("level", level.name)
        writer.field("service", service)
        writer.field("msg", message)
        if let requestID { writer.field("request_id", requestID) }
        if let traceID { writer.field("trace_id", traceID) }
        for entry in storedMetadata where lineMetadata[entry.key] == nil {
            writer.field(Self.outputKey(entry.key), entry.value)
        }
        if !lineMetadata.isEmpty {
            for (key, value) in lineMetadata.sorted(by: { $0.key < $1.key }) {
                writer.field(Self.outputKey(key), redaction.redact(key, value))
            }
        }
        return writer.finish()
    }
}
