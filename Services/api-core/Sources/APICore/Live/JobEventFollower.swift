import BulkheadObservability
import BulkheadService
import Shared

/// Follows one job's stream in queue-broker for a live reader (SSE or WebSocket): long-polls
/// after the last id, skips `cancel_requested` (internal), and returns after the terminal event.
/// A terminal job whose stream holds nothing more (expired, or the terminal event was never
/// appended) gets one synthetic terminal event built from its record, without an id.
struct JobEventFollower: Sendable {
    /// One event for the reader: `id` is the stream id (nil for a synthetic event).
    struct Event: Sendable {
        var id: Int64?
        var type: String
        var data: JSONValue
    }

    let broker: BrokerClient
    let jobs: JobStore
    let logger: Logger
    /// Long-poll wait per read.
    var waitSeconds = 15

    func follow(jobID: String, tenant: String, after start: Int64, deliver: @Sendable (Event) async throws -> Void) async throws {
        var after = start
        var failing = false
        // The first read does not wait, so a finished job whose stream is gone answers at once.
        var wait = 0
        let stream = AIJobContract.streamKey(jobID)
        while !Task.isCancelled {
            let page: BrokerClient.StreamPage
            do {
                page = try await broker.read(stream, after: after, waitSeconds: wait)
                if failing { logger.info("job stream readable again", ["job_id": .string(jobID)]) }
                failing = false
            } catch {
                try Task.checkCancellation()
                if !failing { logger.warning("job stream unreadable; retrying", ["job_id": .string(jobID), "error": .string("\(error)")]) }
                failing = true
                try await Task.sleep(for: .seconds(1))
                continue
            }
            for event in page.events {
                after = max(after, event.id)
                let type = event.type ?? "message"
                if type == AIJobEventType.cancelRequested.rawValue { continue }
                try await deliver(Event(id: event.id, type: type, data: event.data))
                if AIJobEventType(rawValue: type)?.isTerminal == true { return }
            }
            if page.events.isEmpty {
                wait = waitSeconds
                let record = try await BlockingWork.run { [jobs] in try jobs.job(id: jobID, tenant: tenant) }
                if let record, record.status.isTerminal {
                    let type = AIJobEventType(rawValue: record.status.rawValue) ?? .cancelled
                    let data = JSONInput.parse(JSONInput.text(record.terminalEventData)) ?? .null
                    try await deliver(Event(id: nil, type: type.rawValue, data: data))
                    return
                }
            }
        }
    }
}
