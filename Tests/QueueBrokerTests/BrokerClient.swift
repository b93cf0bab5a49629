import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService
import Foundation
import QueueBroker

/// A tiny client for the broker's internal API over real HTTP.
struct BrokerClient: Sendable {
    let base: String
    let client: HTTPClient
    static let token = "test-internal-token"

    init(port: Int, client: HTTPClient) {
        base = "http://127.0.0.1:\(port)"
        self.client = client
    }

    struct Reply: Sendable {
        var status: Int
        var json: [String: any Sendable]
        var text: String
        var errorCode: String? { (json["error"] as? [String: any Sendable])?["code"] as? String }
    }

    func call(_ method: HTTPMethod, _ path: String, _ body: String? = nil, headers extra: [(String, String)] = []) async throws -> Reply {
        var headers = HTTPHeaders([("Authorization", "Bearer \(Self.token)")] + extra)
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        let response = try await client.execute(
            HTTPClientRequest(method: method, url: base + path, headers: headers, body: Array((body ?? "").utf8)), timeout: .seconds(30))
        let bytes = try await response.body.collect()
        let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
        return Reply(status: response.status.code, json: object.mapValues { Self.sendable($0) }, text: String(decoding: bytes, as: UTF8.self))
    }

    static func sendable(_ v: Any) -> any Sendable {
        switch v {
        case let d as [String: Any]: return d.mapValues { sendable($0) }
        case let a as [Any]: return a.map { sendable($0) }
        case let s as String: return s
        case let n as NSNumber: return Double(n.intValue) == n.doubleValue ? n.intValue : n.doubleValue
        default: return "\(v)"
        }
    }

    func createQueue(_ name: String, _ settings: String = "{}") async throws -> Reply {
        try await call(.put, "/internal/v1/queues/\(name)", settings)
    }

    /// Sends one message; returns its id.
    func send(_ queue: String, _ body: String) async throws -> Int {
        let r = try await call(.post, "/internal/v1/queues/\(queue)/messages", body)
        guard r.status == 201 || r.status == 200, let id = r.json["id"] as? Int else { throw TestFailure("send failed: \(r.status) \(r.text)") }
        return id
    }

    /// Receives; returns (id, receipt, receiveCount, tenant).
    func receive(_ queue: String, max: Int = 10, wait: Double = 0, visibility: Double? = nil) async throws -> [(id: Int, receipt: String, count: Int, tenant: String)] {
        let v = visibility.map { ",\"visibility_timeout_seconds\":\($0)" } ?? ""
        let r = try await call(.post, "/internal/v1/queues/\(queue)/receive", "{\"max_messages\":\(max),\"wait_seconds\":\(wait)\(v)}")
        guard r.status == 200, let list = r.json["messages"] as? [any Sendable] else { throw TestFailure("receive failed: \(r.status) \(r.text)") }
        return list.compactMap { item in
            guard let m = item as? [String: any Sendable], let id = m["id"] as? Int, let receipt = m["receipt"] as? String else { return nil }
            return (id, receipt, m["receive_count"] as? Int ?? 0, m["tenant"] as? String ?? "")
        }
    }

    func ack(_ queue: String, _ receipt: String) async throws -> Reply {
        try await call(.post, "/internal/v1/queues/\(queue)/ack", "{\"receipt\":\"\(receipt)\"}")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum BrokerHarness {
    static func environment(dataDir: String? = nil) -> Environment {
        let dir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("qb-\(UUID().uuidString)").path
        return Environment([
            "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dir, "BULKHEAD_INTERNAL_TOKEN": BrokerClient.token,
            "LOOP_THREADS": "1", "LOG_LEVEL": "error", "ACCESS_LOG": "false", "QUEUE_SYNCHRONOUS": "normal",
        ])
    }

    /// Starts the broker in-process, runs `body`, shuts down.
    static func withBroker<T>(_ body: (ServiceHost, BrokerClient) async throws -> T) async throws -> T {
        let host = try await ServiceHost.start(QueueBrokerService.self, environment: environment())
        let client = try HTTPClient()
        do {
            let result = try await body(host, BrokerClient(port: host.port, client: client))
            await client.shutdown()
            await host.shutdown()
            return result
        } catch {
            await client.shutdown()
            await host.shutdown()
            throw error
        }
    }
}
