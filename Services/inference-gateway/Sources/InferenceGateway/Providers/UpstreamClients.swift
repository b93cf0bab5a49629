import BulkheadHTTPClient
import Synchronization

/// The HTTP clients that talk to upstream providers: pooled keep-alive connections per host,
/// one set of clients per connect timeout (the client's connect timeout is per client). Each
/// set has `loops` clients, each with its own event-loop thread, used round-robin so upstream
/// I/O is spread over cores.
final class UpstreamClients: Sendable {
    struct Settings: Sendable {
        var loops = 2
        var maxConnectionsPerHost = 256
    }

    private let settings: Settings
    private let clients = Mutex<[Int64: [HTTPClient]]>([:])
    private let next = Atomic<Int>(0)

    init(settings: Settings) { self.settings = settings }

    /// A client whose connect timeout is `connectTimeout`.
    func client(connectTimeout: Duration) throws -> HTTPClient {
        let key = Int64(connectTimeout.components.seconds) * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000
        let list = try clients.withLock { map -> [HTTPClient] in
            if let existing = map[key] { return existing }
            var made: [HTTPClient] = []
            for i in 0..<max(1, settings.loops) {
                var config = HTTPClient.Configuration()
                config.connectTimeout = connectTimeout
                config.requestTimeout = nil
                config.maxConnectionsPerHost = settings.maxConnectionsPerHost
                config.userAgent = "bulkhead-inference-gateway/1.0"
                config.threadName = "upstream-\(i)"
                made.append(try HTTPClient(configuration: config))
            }
            map[key] = made
            return made
        }
        let i = next.add(1, ordering: .relaxed).newValue
        return list[i % list.count]
    }

    /// Sends `request` to deployment `d` within its connect and total timeouts and returns a
    /// 200 response for the caller to read. A transport failure is `ProviderError.transport`; any
    /// other status is the upstream's error body, normalised (`UpstreamErrorBody`).
    func send(_ request: HTTPClientRequest, to d: DeploymentConfig) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await client(connectTimeout: d.timeouts.connect).execute(request, timeout: d.timeouts.total)
        } catch {
            throw ProviderError.transport(error, deployment: d.id)
        }
        guard response.status.code == 200 else {
            let errorBytes = (try? await response.body.collect(upTo: 64 << 10)) ?? []
            throw UpstreamErrorBody(errorBytes, status: response.status.code).failure(status: response.status.code, headers: response.headers)
        }
        return response
    }

    func shutdown() async {
        let all = clients.withLock { map -> [HTTPClient] in
            defer { map = [:] }
            return map.values.flatMap { $0 }
        }
        for c in all { await c.shutdown() }
    }
}
