/// Where a message is in its life.
public enum MessageState: Int, Sendable {
    /// Waiting for its delay to pass.
    case delayed = 0
    /// Can be received.
    case ready = 1
    /// Leased to a consumer until `visibleAt`.
    case inflight = 2
    /// Moved to the dead letters after too many receives.
    case dead = 3
}

/// One message and its delivery history (all times in milliseconds since the epoch).
public struct QueueMessage: Sendable, Equatable {
    /// Broker-wide increasing id.
    public var id: Int64
    public var queue: String
    /// Fairness key; "" when the sender gave none.
    public var tenant: String
    /// 0–9; higher is received first within a tenant.
    public var priority: Int
    /// The JSON text of the body.
    public var body: [UInt8]
    /// The JSON text of the attributes object (`{}` when none).
    public var attributes: [UInt8]
    public var idempotencyKey: String?
    public var sentAt: Int64
    /// When a delayed or leased message becomes visible again.
    public var visibleAt: Int64
    public var receiveCount: Int
    public var firstReceivedAt: Int64?
    public var lastReceivedAt: Int64?
    public var state: MessageState
    /// The current lease token (nil unless in flight).
    public var leaseToken: UInt64?
    /// Dead-letter history.
    public var deadAt: Int64?
    public var deadReason: String?
    /// For dead letters redirected to another queue: where they came from.
    public var sourceQueue: String?
}

/// What a receive hands out.
public struct Delivery: Sendable, Equatable {
    public var message: QueueMessage
    /// Opaque lease handle: `<id>.<token>`; only the latest receipt of a message is valid.
    public var receipt: String
}

/// A message to send, already validated for shape.
public struct OutgoingMessage: Sendable {
    public var body: [UInt8]
    public var attributes: [UInt8]
    public var priority: Int
    public var delaySeconds: Double?
    public var tenant: String
    public var idempotencyKey: String?

    public init(body: [UInt8], attributes: [UInt8] = Array("{}".utf8), priority: Int = 0, delaySeconds: Double? = nil, tenant: String = "", idempotencyKey: String? = nil) {
        self.body = body
        self.attributes = attributes
        self.priority = priority
        self.delaySeconds = delaySeconds
        self.tenant = tenant
        self.idempotencyKey = idempotencyKey
    }
}

/// The outcome of one send.
public struct SendResult: Sendable, Equatable {
    public var id: Int64
    /// True when the idempotency key matched an earlier send: nothing new was enqueued.
    public var duplicate: Bool
}
