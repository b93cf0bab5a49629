import BulkheadObservability
import Foundation
import Shared

/// A background consumer of one queue: long-polls, hands each batch to `apply`, acks what was
/// applied (and poison messages, logged), nacks the rest. Survives queue-broker restarts:
/// failures back off exponentially (up to 10 s) and are logged once per outage.
struct QueueConsumer<Body: Decodable & Sendable>: Sendable {
    let queue: String
    let broker: BrokerClient
    let logger: Logger
    let metrics: APICoreMetrics
    let apply: @Sendable ([Body]) async throws -> Void
    var waitSeconds = 20

    func run() async throws {
        var backoff: Duration = .milliseconds(200)
        var failing = false
        while !Task.isCancelled {
            do {
                let messages = try await broker.receive(queue, as: Body.self, max: 10, waitSeconds: waitSeconds)
                if failing { logger.info("consumer reconnected", ["queue": .string(queue)]) }
                failing = false
                backoff = .milliseconds(200)
                try await handle(messages)
            } catch {
                if Task.isCancelled { return }
                if !failing {
                    logger.warning("consumer cannot reach queue-broker; retrying with backoff", ["queue": .string(queue), "error": .string("\(error)")])
                }
                failing = true
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
    }

    private func handle(_ messages: [BrokerClient.Received<Body>]) async throws {
        guard !messages.isEmpty else { return }
        var poison: [String] = []
        var good: [(String, Body)] = []
        for m in messages {
            if let body = m.body { good.append((m.receipt, body)) } else { poison.append(m.receipt) }
        }
        if !poison.isEmpty {
            logger.error("unreadable messages dropped", ["queue": .string(queue), "count": .int(poison.count)])
            metrics.consumed.labels(queue, "poison").inc(by: poison.count)
        }
        do {
            try await apply(good.map(\.1))
            metrics.consumed.labels(queue, "applied").inc(by: good.count)
            try await broker.ack(queue, receipts: poison + good.map(\.0))
        } catch let error as BrokerClient.Failure {
            throw error
        } catch {
            // The store refused: give the messages back for a later attempt.
            logger.error("consumer could not apply a batch", ["queue": .string(queue), "error": .string("\(error)")])
            metrics.consumed.labels(queue, "error").inc(by: good.count)
            try await broker.ack(queue, receipts: poison)
            for (receipt, _) in good { try? await broker.nack(queue, receipt: receipt) }
        }
        if let newest = messages.compactMap(\.sentAt).max() {
            metrics.consumerLag.labels(queue).set(max(0, Double(Timestamps.nowMillis() - newest) / 1000))
        }
    }
}
