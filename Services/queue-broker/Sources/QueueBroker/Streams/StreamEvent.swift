/// One event of a stream.
public struct StreamEvent: Sendable, Equatable {
    /// Increasing within its stream, starting at 1.
    public var id: Int64
    /// Optional event type (e.g. `token`, `done`).
    public var type: String?
    /// The JSON text of the event's data.
    public var data: [UInt8]
    /// Append time, milliseconds since the epoch.
    public var time: Int64
}
