import BulkheadHTTP
import BulkheadService
import Foundation
import Shared
import Synchronization

/// One `/v1/stream` WebSocket: the client subscribes to several jobs of its tenant; each
/// subscription follows its job's stream until the terminal event. The socket stays open until
/// the client closes it.
///
/// Client → server: `{"type":"subscribe","job_id":"...","after"?:n}`, `{"type":"unsubscribe","job_id":"..."}`.
/// Server → client: `{"type":"subscribed","job_id"}`, `{"type":"unsubscribed","job_id"}`,
/// `{"type":"event","job_id","id","event","data"}`, `{"type":"error","code","message"}`.
final class StreamSocket: Sendable {
    let tenant: String
    let follower: JobEventFollower
    let jobs: JobStore
    let maxSubscriptions: Int
    /// A subscription slot: reserved before its task starts, removed by the task when it ends.
    private struct Slot {
        var token: UInt64
        var task: Task<Void, Never>?
    }
    private let subscriptions = Mutex<[String: Slot]>([:])
    private let nextToken = Atomic<UInt64>(1)

    init(tenant: String, follower: JobEventFollower, jobs: JobStore, maxSubscriptions: Int) {
        self.tenant = tenant
        self.follower = follower
        self.jobs = jobs
        self.maxSubscriptions = maxSubscriptions
    }

    func run(_ ws: WebSocketSession) async {
        for await message in ws.messages {
            guard case .text(let text) = message else {
                await send(ws, error: "invalid_message", "Send JSON text messages.")
                continue
            }
            await handle(text, ws)
        }
        let tasks = subscriptions.withLock { s in
            defer { s.removeAll() }
            return s.values.compactMap(\.task)
        }
        for t in tasks { t.cancel() }
    }

    private func handle(_ text: String, _ ws: WebSocketSession) async {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), case .object(let o) = value else {
            return await send(ws, error: "invalid_json", "A message must be a JSON object.")
        }
        guard let jobID = o["job_id"]?.stringValue else {
            return await send(ws, error: "missing_field", "Field 'job_id' is required.")
        }
        switch o["type"]?.stringValue {
        case "subscribe":
            var after: Int64 = 0
            if let a = o["after"], a != .null {
                guard let n = a.doubleValue, n >= 0, n.rounded() == n, n < 9e15 else {
                    return await send(ws, error: "invalid_field", "Field 'after' must be a non-negative event id.")
                }
                after = Int64(n)
            }
            await subscribe(jobID, after: after, ws)
        case "unsubscribe":
            let slot = subscriptions.withLock { $0.removeValue(forKey: jobID) }
            slot?.task?.cancel()
            await send(ws, ["type": .string("unsubscribed"), "job_id": .string(jobID)])
        default:
            await send(ws, error: "invalid_field", "Field 'type' must be \"subscribe\" or \"unsubscribe\".")
        }
    }

    private func subscribe(_ jobID: String, after: Int64, _ ws: WebSocketSession) async {
        let tenant = self.tenant
        let record = APICoreAPI.plausibleJobID(jobID) ? (try? await BlockingWork.run { [jobs] in try jobs.job(id: jobID, tenant: tenant) }) ?? nil : nil
        guard record != nil else { return await send(ws, error: "job_not_found", "No job with id '\(jobID.prefix(64))'.", jobID: jobID) }
        enum Admission { case ok, duplicate, full }
        let token = nextToken.add(1, ordering: .relaxed).newValue
        let admission = subscriptions.withLock { s -> Admission in
            if s[jobID] != nil { return .duplicate }
            if s.count >= maxSubscriptions { return .full }
            s[jobID] = Slot(token: token, task: nil)
            return .ok
        }
        switch admission {
        case .duplicate: return await send(ws, error: "already_subscribed", "This socket already follows job '\(jobID)'.", jobID: jobID)
        case .full:
            return await send(ws, error: "too_many_subscriptions", "A socket may follow at most \(maxSubscriptions) jobs at once.", jobID: jobID)
        case .ok: break
        }
        await send(ws, ["type": .string("subscribed"), "job_id": .string(jobID)])
        let follower = self.follower
        let task = Task { [weak self] in
            do {
                try await follower.follow(jobID: jobID, tenant: tenant, after: after) { event in
                    var o: [String: JSONValue] = ["type": .string("event"), "job_id": .string(jobID), "event": .string(event.type), "data": event.data]
                    o["id"] = event.id.map { .number(Double($0)) } ?? .null
                    try await ws.send(text: JSONInput.text(JSONValue.object(o)))
                }
            } catch {}
            self?.release(jobID, token: token)
        }
        // The task may already have ended and released its slot: attach only to our own slot.
        subscriptions.withLock { s in if s[jobID]?.token == token { s[jobID]?.task = task } }
    }

    private func release(_ jobID: String, token: UInt64) {
        subscriptions.withLock { s in if s[jobID]?.token == token { s.removeValue(forKey: jobID) } }
    }

    private func send(_ ws: WebSocketSession, _ object: [String: JSONValue]) async {
        try? await ws.send(text: JSONInput.text(JSONValue.object(object)))
    }

    private func send(_ ws: WebSocketSession, error code: String, _ message: String, jobID: String? = nil) async {
        var o: [String: JSONValue] = ["type": .string("error"), "code": .string(code), "message": .string(message)]
        if let jobID { o["job_id"] = .string(jobID) }
        await send(ws, o)
    }
}
