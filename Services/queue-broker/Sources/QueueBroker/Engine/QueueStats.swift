/// A queue's gauges and rates, as served by the stats route and `/metrics`.
public struct QueueStats: Sendable, Equatable, Codable {
    public var queue: String
    /// Receivable now.
    public var visible = 0
    /// Leased and not yet expired.
    public var inFlight = 0
    /// Waiting for a send delay or a nack backoff.
    public var delayed = 0
    /// In this queue's dead-letter area.
    public var deadLettered = 0
    /// Age of the oldest message that is not a dead letter, in seconds (0 when empty).
    public var oldestAgeSeconds: Double = 0
    public var sentTotal: Int64 = 0
    public var receivedTotal: Int64 = 0
    public var ackedTotal: Int64 = 0
    public var deadLetteredTotal: Int64 = 0
    /// Per second, averaged over the last 10 s.
    public var sendRate: Double = 0
    public var receiveRate: Double = 0
    public var ackRate: Double = 0

    init(queue: String) { self.queue = queue }

    enum CodingKeys: String, CodingKey {
        case queue, visible, delayed
        case inFlight = "in_flight"
        case deadLettered = "dead_lettered"
        case oldestAgeSeconds = "oldest_age_seconds"
        case sentTotal = "sent_total"
        case receivedTotal = "received_total"
        case ackedTotal = "acked_total"
        case deadLetteredTotal = "dead_lettered_total"
        case sendRate = "send_rate"
        case receiveRate = "receive_rate"
        case ackRate = "ack_rate"
    }
}
