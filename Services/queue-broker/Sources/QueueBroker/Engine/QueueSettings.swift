/// A queue's settings. Every field has an SQS-like default; `validate()` checks the ranges.
///
/// Durations are whole milliseconds internally; the API speaks seconds.
public struct QueueSettings: Sendable, Equatable, Codable {
    /// How long a received message stays invisible before it is redelivered. Default 30 s, 0 s–12 h.
    public var visibilityTimeoutSeconds: Double = 30
    /// Receives after which the next receive moves the message to the dead letters. Default 5, 1–1000.
    public var maxReceives: Int = 5
    /// Optional other queue that receives this queue's dead letters as ordinary messages;
    /// when nil they stay in this queue's own dead-letter area.
    public var deadLetterQueue: String? = nil
    /// How long a message is kept at most, from its send. Default 4 days, 60 s–14 days.
    public var retentionSeconds: Double = 4 * 86_400
    /// Largest accepted message body (its JSON text), in bytes. Default 256 KiB, 1 B–1 MiB.
    public var maxMessageBytes: Int = 256 * 1024
    /// Delay applied to sends that give none. Default 0, 0–15 min.
    public var defaultDelaySeconds: Double = 0
    /// First nack backoff; doubles with each receive. Default 1 s, 0–12 h.
    public var nackBackoffBaseSeconds: Double = 1
    /// Ceiling of the nack backoff. Default 300 s, 0–12 h.
    public var nackBackoffMaxSeconds: Double = 300

    /// Defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case visibilityTimeoutSeconds = "visibility_timeout_seconds"
        case maxReceives = "max_receives"
        case deadLetterQueue = "dead_letter_queue"
        case retentionSeconds = "retention_seconds"
        case maxMessageBytes = "max_message_bytes"
        case defaultDelaySeconds = "default_delay_seconds"
        case nackBackoffBaseSeconds = "nack_backoff_base_seconds"
        case nackBackoffMaxSeconds = "nack_backoff_max_seconds"
    }

    /// Decodes a partial settings object: missing fields keep their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        visibilityTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .visibilityTimeoutSeconds) ?? visibilityTimeoutSeconds
        maxReceives = try c.decodeIfPresent(Int.self, forKey: .maxReceives) ?? maxReceives
        deadLetterQueue = try c.decodeIfPresent(String.self, forKey: .deadLetterQueue)
        retentionSeconds = try c.decodeIfPresent(Double.self, forKey: .retentionSeconds) ?? retentionSeconds
        maxMessageBytes = try c.decodeIfPresent(Int.self, forKey: .maxMessageBytes) ?? maxMessageBytes
        defaultDelaySeconds = try c.decodeIfPresent(Double.self, forKey: .defaultDelaySeconds) ?? defaultDelaySeconds
        nackBackoffBaseSeconds = try c.decodeIfPresent(Double.self, forKey: .nackBackoffBaseSeconds) ?? nackBackoffBaseSeconds
        nackBackoffMaxSeconds = try c.decodeIfPresent(Double.self, forKey: .nackBackoffMaxSeconds) ?? nackBackoffMaxSeconds
    }

    /// Largest visibility timeout (12 h, as SQS).
    public static let maxVisibilitySeconds: Double = 12 * 3600
    /// Largest send delay (15 min, as SQS).
    public static let maxDelaySeconds: Double = 15 * 60

    /// Throws `setting_out_of_range` naming the first bad field.
    public func validate() throws(BrokerError) {
        try Self.check("visibility_timeout_seconds", visibilityTimeoutSeconds, 0...Self.maxVisibilitySeconds)
        guard (1...1000).contains(maxReceives) else { throw .outOfRange("max_receives", "must be 1–1000, got \(maxReceives)") }
        try Self.check("retention_seconds", retentionSeconds, 60...(14 * 86_400))
        guard (1...(1 << 20)).contains(maxMessageBytes) else {
            throw .outOfRange("max_message_bytes", "must be 1–1048576, got \(maxMessageBytes)")
        }
        try Self.check("default_delay_seconds", defaultDelaySeconds, 0...Self.maxDelaySeconds)
        try Self.check("nack_backoff_base_seconds", nackBackoffBaseSeconds, 0...Self.maxVisibilitySeconds)
        try Self.check("nack_backoff_max_seconds", nackBackoffMaxSeconds, 0...Self.maxVisibilitySeconds)
        if let dlq = deadLetterQueue { try QueueName.validate(dlq, field: "dead_letter_queue") }
    }

    static func check(_ field: String, _ value: Double, _ range: ClosedRange<Double>) throws(BrokerError) {
        guard value.isFinite, range.contains(value) else {
            throw .outOfRange(field, "must be between \(range.lowerBound) and \(range.upperBound) seconds, got \(value)")
        }
    }
}

/// Queue and stream names: 1–80 characters of `A-Z a-z 0-9 - _ .` (as SQS, plus dots).
enum QueueName {
    static func validate(_ name: String, field: String = "queue name") throws(BrokerError) {
        let ok = !name.isEmpty && name.utf8.count <= 80
            && name.utf8.allSatisfy { c in
                (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95 || c == 46
            }
        guard ok else {
            throw BrokerError(400, "invalid_name", "\(field) must be 1–80 characters of letters, digits, '-', '_' or '.', got '\(name.prefix(100))'.")
        }
    }
}

extension Double {
    /// Seconds to whole milliseconds.
    var milliseconds: Int64 { Int64((self * 1000).rounded()) }
}
