import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService
import Cache
import Foundation
import Testing

/// A cache service started in-process on port 0, with an HTTP client that speaks to it over
/// real loopback sockets (async, so concurrent clients never block the cooperative pool).
final class CacheTestHost: Sendable {
    static let token = "cache-test-token"
    let host: ServiceHost
    let client: HTTPClient
    let dataDirectory: String

    private init(host: ServiceHost, client: HTTPClient, dataDirectory: String) {
        self.host = host
        self.client = client
        self.dataDirectory = dataDirectory
    }

    /// A second client on `other`'s service (it does not own the service: do not `stop()` it).
    convenience init(sharing other: CacheTestHost) throws {
        self.init(host: other.host, client: try HTTPClient(), dataDirectory: other.dataDirectory)
    }

    /// Starts the service; `dataDirectory` reuses a previous run's state (restart tests).
    static func start(_ extra: [String: String] = [:], dataDirectory: String? = nil) async throws -> CacheTestHost {
        let dir = dataDirectory ?? NSTemporaryDirectory() + "bulkhead-cache-\(UUID().uuidString)"
        var values = [
            "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dir, "BULKHEAD_INTERNAL_TOKEN": token, "LOOP_THREADS": "1",
            "LOG_LEVEL": "error", "ACCESS_LOG": "false",
        ]
        for (k, v) in extra { values[k] = v }
        let host = try await ServiceHost.start(CacheService.self, environment: Environment(values))
        return CacheTestHost(host: host, client: try HTTPClient(), dataDirectory: dir)
    }

    func stop() async {
        await client.shutdown()
        await host.shutdown()
    }

    /// Sends `method path` with a JSON body (a dictionary/array serialized, or raw text).
    func call(_ method: HTTPMethod, _ path: String, json: Any? = nil, raw: String? = nil, token: String? = CacheTestHost.token) async throws
        -> CacheReply
    {
        var headers = HTTPHeaders()
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        var body: [UInt8] = []
        if let json { body = Array(try JSONSerialization.data(withJSONObject: json)) }
        if let raw { body = Array(raw.utf8) }
        if !body.isEmpty { headers.add(name: "Content-Type", value: "application/json") }
        let response = try await client.execute(
            HTTPClientRequest(method: method, url: host.baseURL + path, headers: headers, body: body), timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return CacheReply(status: response.status.code, bytes: bytes)
    }

    // MARK: Shorthands

    func put(_ tenant: String, _ ns: String, _ key: String, _ body: [String: Any]) async throws -> CacheReply {
        try await call(.put, "/internal/v1/cache/\(tenant)/\(ns)/entries/\(key)", json: body)
    }

    func lookup(_ tenant: String, _ ns: String, _ body: [String: Any]) async throws -> CacheReply {
        try await call(.post, "/internal/v1/cache/\(tenant)/\(ns)/lookup", json: body)
    }

    func apply(_ ops: [[String: Any]]) async throws -> CacheReply {
        try await call(.post, "/internal/v1/counters/apply", json: ["ops": ops])
    }

    /// The value of one sample in `/metrics`, e.g. `cache_lookups_total{result="miss"}`.
    func metric(_ series: String) async throws -> Double? {
        let text = try await call(.get, "/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}

/// A response: status and JSON body.
struct CacheReply: Sendable {
    var status: Int
    var bytes: [UInt8]
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:] }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    subscript(_ key: String) -> Any? { json[key] }
    func int(_ key: String) -> Int? { (json[key] as? NSNumber)?.intValue }
    func double(_ key: String) -> Double? { (json[key] as? NSNumber)?.doubleValue }
    func bool(_ key: String) -> Bool? { json[key] as? Bool }
}

/// Deterministic test vectors: a unit-ish direction per seed, and a small perturbation of one.
enum CacheVectors {
    static func random(seed: UInt64, dimension: Int = 16) -> [Double] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        return (0..<dimension).map { _ in
            s ^= s << 13
            s ^= s >> 7
            s ^= s << 17
            return Double(s % 2000) / 1000 - 1
        }
    }

    /// `v` plus `amount` times a fixed other direction: cosine to `v` falls as `amount` grows.
    static func nudged(_ v: [Double], by amount: Double, seed: UInt64 = 999) -> [Double] {
        let other = random(seed: seed, dimension: v.count)
        return zip(v, other).map { $0 + amount * $1 }
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in 0..<min(a.count, b.count) {
            dot += a[i] * b[i]
            na += a[i] * a[i]
            nb += b[i] * b[i]
        }
        return dot / (na * nb).squareRoot()
    }
}

/// Polls `condition` until it holds or `timeout` passes (async sleeps, never blocking a thread).
func cacheEventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
