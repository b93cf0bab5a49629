import Foundation
import Shared

/// The parts of queue-broker's API (`/internal/v1/`) the job worker uses.
struct QueueBrokerClient: Sendable {
    let service: InternalServiceClient

    /// A received message with its lease.
    struct Received: Decodable, Sendable {
        var id: Int64
        var tenant: String?
        var receiveCount: Int
        var receipt: String
        var body: JSONValue
        enum CodingKeys: String, CodingKey { case id, tenant, receiveCount = "receive_count", receipt, body }
    }

    /// One stream event as read back.
    struct Event: Decodable, Sendable {
        var id: Int64
        var type: String?
        var data: JSONValue?
    }

    struct EventPage: Decodable, Sendable {
        var events: [Event]
        var lastID: Int64
        enum CodingKeys: String, CodingKey { case events, lastID = "last_id" }
    }

    /// A page of events without their data: what watching for one event type needs. The worker's
    /// cancel watcher reads back every delta the job appends; building each one's JSON tree just
    /// to look at its type was most of a waiting job's CPU.
    struct TypePage: Decodable, Sendable {
        struct Head: Decodable, Sendable { var id: Int64; var type: String? }
        var events: [Head]
        var lastID: Int64
        enum CodingKeys: String, CodingKey { case events, lastID = "last_id" }
    }

    /// A stream event to append.
    struct NewEvent: Encodable, Sendable {
        var type: String
        var data: AIJobEventData
    }

    private static func queuePath(_ q: String) -> String { "/internal/v1/queues/\(InternalServiceClient.segment(q))" }
    private static func streamPath(_ key: String) -> String { "/internal/v1/streams/\(InternalServiceClient.segment(key))/events" }

    /// `PUT` a queue with settings (idempotent).
    func ensureQueue(_ name: String, settings: [String: Int] = [:]) async throws {
        try await service.expectSuccess(.put, Self.queuePath(name), body: Array(try JSONEncoder().encode(settings)), timeout: .seconds(5))
    }

    /// Long-polls for up to `max` messages.
    func receive(_ queue: String, max: Int, waitSeconds: Int) async throws -> [Received] {
        struct Body: Encodable { var max_messages: Int; var wait_seconds: Int }
        struct Answer: Decodable { var messages: [Received] }
        let body = try JSONEncoder().encode(Body(max_messages: max, wait_seconds: waitSeconds))
        return try await service.json(
            Answer.self, .post, Self.queuePath(queue) + "/receive", body: Array(body), timeout: .seconds(waitSeconds + 10)
        ).messages
    }

    func ack(_ queue: String, receipt: String) async throws {
        try await service.expectSuccess(.post, Self.queuePath(queue) + "/ack", body: Array(try JSONEncoder().encode(["receipt": receipt])), timeout: .seconds(5))
    }

    /// Gives the message back with the queue's backoff.
    func nack(_ queue: String, receipt: String) async throws {
        try await service.expectSuccess(.post, Self.queuePath(queue) + "/nack", body: Array(try JSONEncoder().encode(["receipt": receipt])), timeout: .seconds(5))
    }

    /// Makes the message visible at once (its receive count kept): another worker takes it.
    func release(_ queue: String, receipt: String) async throws {
        try await service.expectSuccess(.post, Self.queuePath(queue) + "/release", body: Array(try JSONEncoder().encode(["receipt": receipt])), timeout: .seconds(5))
    }

    func extend(_ queue: String, receipt: String, seconds: Int) async throws {
        struct Body: Encodable { var receipt: String; var visibility_timeout_seconds: Int }
        let body = try JSONEncoder().encode(Body(receipt: receipt, visibility_timeout_seconds: seconds))
        try await service.expectSuccess(.post, Self.queuePath(queue) + "/extend", body: Array(body), timeout: .seconds(5))
    }

    /// Sends one message (a job update).
    func send(_ queue: String, body: AIJobUpdate, tenant: String) async throws {
        struct Message: Encodable { var body: AIJobUpdate; var tenant: String }
        let bytes = try JSONEncoder().encode(Message(body: body, tenant: tenant.isEmpty ? "_service" : tenant))
        try await service.expectSuccess(.post, Self.queuePath(queue) + "/messages", body: Array(bytes), timeout: .seconds(5))
    }

    /// Appends events to a stream in one call.
    func append(_ key: String, events: [NewEvent]) async throws {
        guard !events.isEmpty else { return }
        struct Body: Encodable { var events: [NewEvent] }
        try await service.expectSuccess(.post, Self.streamPath(key), body: Array(try JSONEncoder().encode(Body(events: events))), timeout: .seconds(5))
    }

    /// Events after `after` (0: from the start), waiting up to `waitSeconds` for new ones.
    /// A stream that does not exist yet reads as empty.
    func read(_ key: String, after: Int64, waitSeconds: Int = 0, limit: Int = 1000) async throws -> EventPage {
        try await readPage(EventPage.self, key, after: after, waitSeconds: waitSeconds, limit: limit) ?? EventPage(events: [], lastID: after)
    }

    /// `read` without the events' data (ids and types only). With `only`, queue-broker returns
    /// (and ends the wait for) events of those types alone: a watcher for a rare event is not
    /// woken by every delta its job appends.
    func readTypes(_ key: String, after: Int64, waitSeconds: Int = 0, limit: Int = 1000, only: [String]? = nil) async throws -> TypePage {
        try await readPage(TypePage.self, key, after: after, waitSeconds: waitSeconds, limit: limit, only: only)
            ?? TypePage(events: [], lastID: after)
    }

    /// One page decoded as `Page`; nil for a stream that does not exist yet.
    private func readPage<Page: Decodable>(
        _ type: Page.Type, _ key: String, after: Int64, waitSeconds: Int, limit: Int, only: [String]? = nil
    ) async throws -> Page? {
        var path = Self.streamPath(key) + "?after=\(after)&limit=\(limit)&wait_seconds=\(waitSeconds)"
        if let only { path += "&types=" + only.map(InternalServiceClient.segment).joined(separator: ",") }
        let (status, bytes) = try await service.send(.get, path, timeout: .seconds(waitSeconds + 10))
        if status == 404 { return nil }
        guard status == 200 else { throw InternalServiceClient.StatusError(status: status, body: String(decoding: bytes.prefix(300), as: UTF8.self)) }
        return try JSONDecoder().decode(Page.self, from: Data(bytes))
    }
}
