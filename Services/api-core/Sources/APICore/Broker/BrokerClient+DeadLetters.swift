import Foundation
import Shared

extension BrokerClient {
    /// A dead letter as queue-broker lists it; `body` is nil when it did not decode as `Body`.
    struct DeadLetter<Body: Decodable & Sendable>: Sendable, Decodable {
        var id: Int64
        var receiveCount: Int?
        var deadLetteredAt: Int64?
        var reason: String?
        var body: Body?
        enum CodingKeys: String, CodingKey {
            case id, receiveCount = "receive_count", deadLetteredAt = "dead_lettered_at", reason = "dead_letter_reason", body
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int64.self, forKey: .id)
            receiveCount = try c.decodeIfPresent(Int.self, forKey: .receiveCount)
            deadLetteredAt = try c.decodeIfPresent(Int64.self, forKey: .deadLetteredAt)
            reason = try c.decodeIfPresent(String.self, forKey: .reason)
            body = try? c.decode(Body.self, forKey: .body)
        }
    }

    private struct DeadLetterPage<Body: Decodable & Sendable>: Decodable, Sendable { var messages: [DeadLetter<Body>] }

    /// The oldest `limit` (1–1000) dead letters of `queue` (queue-broker keeps them until they are
    /// purged, redriven or past the queue's retention). A queue that does not exist has none.
    func deadLetters<Body: Decodable & Sendable>(_ queue: String, as: Body.Type, limit: Int) async throws -> [DeadLetter<Body>] {
        let bytes: [UInt8]
        do {
            bytes = try await call(.get, "/internal/v1/queues/\(queue)/dead-letters?limit=\(limit)", body: nil, expect: [200])
        } catch let failure as Failure where failure.status == 404 {
            return []
        }
        return try decode(DeadLetterPage<Body>.self, bytes).messages
    }

    /// Removes one dead letter once it has been dealt with; a letter already gone is fine.
    func deleteDeadLetter(_ queue: String, id: Int64) async throws {
        _ = try await call(.delete, "/internal/v1/queues/\(queue)/dead-letters/\(id)", body: nil, expect: [204, 404])
    }
}
