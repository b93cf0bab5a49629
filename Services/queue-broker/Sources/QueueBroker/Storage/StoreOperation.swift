/// One change to persist; the engine emits these and the store applies them in order,
/// many per transaction (group commit).
public enum StoreOperation: Sendable {
    case upsertQueue(name: String, settings: [UInt8])
    case deleteQueue(name: String)
    case insertMessage(QueueMessage)
    /// Delivery bookkeeping after receive/extend/release/nack/expiry.
    case updateDelivery(id: Int64, state: MessageState, visibleAt: Int64, receiveCount: Int, firstReceivedAt: Int64?, lastReceivedAt: Int64?)
    case deleteMessage(id: Int64)
    case deadLetter(id: Int64, deadAt: Int64, reason: String)
    /// A dead letter moved to another queue (dead_letter_queue setting) or redriven.
    case moveMessage(id: Int64, queue: String, state: MessageState, visibleAt: Int64, receiveCount: Int, sourceQueue: String?, deadAt: Int64?, deadReason: String?)
    case insertDedup(queue: String, key: String, id: Int64, expires: Int64)
    case purgeDedup(before: Int64)
    case appendEvent(stream: String, event: StreamEvent)
    case trimStream(stream: String, throughID: Int64)
    case deleteStream(stream: String)
}

extension StoreOperation {
    /// Whether the operation only changes streams (its fsync may be deferred; see `MessageStore`).
    var isStreamOperation: Bool {
        switch self {
        case .appendEvent, .trimStream, .deleteStream: return true
        default: return false
        }
    }
}
