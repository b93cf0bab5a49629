import BulkheadHTTP
import BulkheadHTTPClient
import Foundation
import Shared

/// queue-broker's internal API as api-core uses it: queues, messages and job streams.
/// Each instance is bound to one `HTTPClient`, so submits, stream long-polls and consumers can
/// each have their own connection pool (see README, "Bulkhead").
struct BrokerClient: Sendable {
    let baseURL: String
    let internalToken: String
    let client: HTTPClient

    /// A failed broker call: unreachable, or an unexpected answer.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// queue-broker's status when it answered (nil when it could not be reached or read).
        var status: Int? = nil
    }

    /// One stream event as read back.
    struct StreamEvent: Sendable, Decodable {
        var id: Int64
        var type: String?
        var time: Int64?
        var data: JSONValue
    }

    struct StreamPage: Sendable, Decodable {
        var events: [StreamEvent]
        var lastID: Int64?
        enum CodingKeys: String, CodingKey { case events, lastID = "last_id" }
    }

    /// A received message whose body decoded as `Body` (nil when it did not: a poison message).
    struct Received<Body: Decodable & Sendable>: Sendable, Decodable {
        var receipt: String
        var sentAt: Int64?
        var receiveCount: Int?
        var body: Body?
        enum CodingKeys: String, CodingKey { case receipt, sentAt = "sent_at", receiveCount = "receive_count", body }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            receipt = try c.decode(String.self, forKey: .receipt)
            sentAt = try c.decodeIfPresent(Int64.self, forKey: .sentAt)
            receiveCount = try c.decodeIfPresent(Int.self, forKey: .receiveCount)
            body = try? c.decode(Body.self, forKey: .body)
        }
    }

    private struct ReceivePage<Body: Decodable & Sendable>: Decodable, Sendable { var messages: [Received<Body>] }

    /// Creates or updates a queue (idempotent).
    func putQueue(_ name: String, settings: [String: Int]) async throws {
        _ = try await call(.put, "/internal/v1/queues/\(name)", body: JSONInput.encode(settings), expect: [200, 201])
    }

    /// Sends one message; returns the broker's message id.
    func send(
        _ queue: String, body: [UInt8], priority: Int, tenant: String, idempotencyKey: String, traceparent: String? = nil
    ) async throws {
        var text = "{\"body\":"
        text += String(decoding: body, as: UTF8.self)
        text += ",\"priority\":\(priority),\"tenant\":\(JSONInput.text(tenant)),\"idempotency_key\":\(JSONInput.text(idempotencyKey))}"
        _ = try await call(.post, "/internal/v1/queues/\(queue)/messages", body: Array(text.utf8), expect: [200, 201], traceparent: traceparent)
    }

    /// Appends events (type, data JSON) to a stream in one call.
    func append(_ stream: String, _ events: [(type: String, data: [UInt8])], traceparent: String? = nil) async throws {
        let items = events.map { "{\"type\":\(JSONInput.text($0.type)),\"data\":\(String(decoding: $0.data, as: UTF8.self))}" }
        let text = "{\"events\":[\(items.joined(separator: ","))]}"
        _ = try await call(.post, "/internal/v1/streams/\(stream)/events", body: Array(text.utf8), expect: [201], traceparent: traceparent)
    }

    /// Events after `after`, waiting up to `waitSeconds` for the first one; only those of
    /// `types` when given (queue-broker filters, so a long stream of deltas is not transferred).
    func read(_ stream: String, after: Int64, waitSeconds: Int, limit: Int = 100, types: [String]? = nil) async throws -> StreamPage {
        let filter = types.map { "&types=" + $0.joined(separator: ",") } ?? ""
        let bytes = try await call(
            .get, "/internal/v1/streams/\(stream)/events?after=\(after)&limit=\(limit)&wait_seconds=\(waitSeconds)" + filter, body: nil,
            expect: [200], timeout: .seconds(Int64(waitSeconds) + 10))
        return try decode(StreamPage.self, bytes)
    }

    /// Receives up to `max` messages, long-polling `waitSeconds`.
    func receive<Body: Decodable & Sendable>(_ queue: String, as: Body.Type, max: Int, waitSeconds: Int) async throws -> [Received<Body>] {
        let body = JSONInput.encode(["max_messages": max, "wait_seconds": waitSeconds])
        let bytes = try await call(
            .post, "/internal/v1/queues/\(queue)/receive", body: body, expect: [200], timeout: .seconds(Int64(waitSeconds) + 10))
        return try decode(ReceivePage<Body>.self, bytes).messages
    }

    /// Acknowledges receipts (a receipt whose lease expired meanwhile is simply redelivered later).
    func ack(_ queue: String, receipts: [String]) async throws {
        guard !receipts.isEmpty else { return }
        _ = try await call(.post, "/internal/v1/queues/\(queue)/ack", body: JSONInput.encode(["receipts": receipts]), expect: [200, 204])
    }

    /// Gives a message back for a later retry (the queue's backoff applies).
    func nack(_ queue: String, receipt: String) async throws {
        _ = try await call(.post, "/internal/v1/queues/\(queue)/nack", body: JSONInput.encode(["receipt": receipt]), expect: [200])
    }

    func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch {
            throw Failure(description: "unreadable answer from queue-broker: \(error)")
        }
    }

    func call(
        _ method: HTTPMethod, _ path: String, body: [UInt8]?, expect: Set<Int>, timeout: Duration = .seconds(10), traceparent: String? = nil
    ) async throws -> [UInt8] {
        var request = HTTPClientRequest(method: method, url: baseURL + path, headers: ["Authorization": "Bearer \(internalToken)"])
        if let body {
            request.body = body
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        request.traceparent = traceparent
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 8 << 20)
        guard expect.contains(response.status.code) else {
            throw Failure(
                description: "queue-broker answered \(response.status.code) to \(method) \(path.prefix(120)): \(String(decoding: bytes.prefix(300), as: UTF8.self))",
                status: response.status.code)
        }
        return bytes
    }
}
