import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService
import Foundation
@testable import InferenceGateway
import Shared
import Synchronization

/// The gateway core alone (OpenHooks unless a test sets `CoreOnlyService.hooks`, no tenancy
/// middleware), as a service for in-process tests of the core.
enum CoreOnlyService: ServiceDefinition {
    static let name = "inference-gateway"
    static let defaultPort = 0
    @TaskLocal static var hooks: (any InferenceHooks)?
    @TaskLocal static var coreOut: CoreBox?

    static func build(_ context: ServiceContext) async throws -> ServiceParts {
        let local = LocalProvider(directory: context.environment.string("BULKHEAD_EMBEDDING_MODEL_DIR"), batching: BatchingLite.options)
        let core = try await GatewayCore.make(context, hooks: hooks ?? OpenHooks(), localModels: local)
        coreOut?.set(core)
        var router = Router()
        core.register(on: &router)
        let steps = core.onShutdown
        return ServiceParts(router: router, readiness: core.readiness, background: core.background, onShutdown: { for s in steps { await s() } })
    }
}

import BulkheadEmbeddings
enum BatchingLite { static let options = BatchingOptions(window: .milliseconds(2), maxBatchSize: 32) }

/// Hands the built core back to the test (for `reloadCatalog`).
final class CoreBox: Sendable {
    private let core = Mutex<GatewayCore?>(nil)
    func set(_ c: GatewayCore) { core.withLock { $0 = c } }
    var value: GatewayCore? { core.withLock { $0 } }
}

/// A running core gateway over a catalog file, with an HTTP client to call it.
struct CoreGateway {
    let host: ServiceHost
    let client: HTTPClient
    let catalogPath: String
    let core: GatewayCore?

    var base: String { "http://127.0.0.1:\(host.port)" }

    static func start(
        catalog: String, env extra: [String: String] = [:], hooks: (any InferenceHooks)? = nil
    ) async throws -> CoreGateway {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gw-core-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/catalog.json"
        try Data(catalog.utf8).write(to: URL(fileURLWithPath: path))
        var values = [
            "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dir, "BULKHEAD_INTERNAL_TOKEN": "internal-test-token", "LOG_LEVEL": "error",
            "ACCESS_LOG": "false", "LOOP_THREADS": "2", "GATEWAY_CATALOG": path, "GATEWAY_RETRY_BASE_DELAY": "10ms",
            "GATEWAY_RETRY_MAX_DELAY": "50ms", "GATEWAY_UPSTREAM_THREADS": "1",
        ]
        for (k, v) in extra { values[k] = v }
        let box = CoreBox()
        let host = try await CoreOnlyService.$hooks.withValue(hooks) {
            try await CoreOnlyService.$coreOut.withValue(box) {
                try await ServiceHost.start(CoreOnlyService.self, environment: Environment(values))
            }
        }
        var config = HTTPClient.Configuration()
        config.requestTimeout = .seconds(20)
        return CoreGateway(host: host, client: try HTTPClient(configuration: config), catalogPath: path, core: box.value)
    }

    func stop() async {
        await client.shutdown()
        await host.shutdown()
    }

    /// POSTs JSON and reads the whole answer.
    func post(_ path: String, _ body: String, headers: [(String, String)] = []) async throws -> Answer {
        var h = HTTPHeaders(headers)
        h.add(name: "Content-Type", value: "application/json")
        let response = try await client.execute(HTTPClientRequest(method: .post, url: base + path, headers: h, body: Array(body.utf8)))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: response.status.code, headers: response.headers, body: bytes)
    }

    func get(_ path: String) async throws -> Answer {
        let response = try await client.get(base + path)
        return Answer(status: response.status.code, headers: response.headers, body: try await response.body.collect(upTo: 16 << 20))
    }

    /// Rewrites the catalog file (then call `core.reloadCatalog()` or send SIGHUP).
    func writeCatalog(_ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: catalogPath)) }
}

/// A whole HTTP answer.
struct Answer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }
    var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    func header(_ name: String) -> String? { headers.first(name) }

    /// The `data:` payloads of an SSE body, parsed (`[DONE]` kept as the string).
    var events: [Any] {
        text.components(separatedBy: "\n\n").compactMap { block -> Any? in
            guard let line = block.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }) else { return nil }
            let payload = line.dropFirst(6)
            if payload == "[DONE]" { return "[DONE]" }
            return try? JSONSerialization.jsonObject(with: Data(payload.utf8))
        }
    }
}

/// Catalog JSON builders for tests.
enum TestCatalog {
    /// One deployment object.
    static func deployment(
        id: String, provider: String = "openai", baseURL: String? = nil, model: String = "upstream-model", weight: Double = 1,
        contextWindow: Int = 8000, price: (Double, Double, Double) = (2.5, 10, 1.25), timeouts: String? = nil, circuit: String? = nil,
        extra: String = ""
    ) -> String {
        var parts = [
            #""id":"\#(id)""#, #""provider":"\#(provider)""#, #""upstream_model":"\#(model)""#, #""weight":\#(weight)"#,
            #""context_window":\#(contextWindow)"#,
            #""price":{"input":\#(price.0),"output":\#(price.1),"cached_input":\#(price.2)}"#,
        ]
        if let baseURL { parts.append(#""base_url":"\#(baseURL)""#) }
        if let timeouts { parts.append(#""timeouts":\#(timeouts)"#) }
        if let circuit { parts.append(#""circuit_breaker":\#(circuit)"#) }
        if !extra.isEmpty { parts.append(extra) }
        return "{" + parts.joined(separator: ",") + "}"
    }

    static func model(_ name: String, strategy: String = "weighted", fallbacks: [String] = [], deployments: [String]) -> String {
        let fb = fallbacks.map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"name":"\#(name)","strategy":"\#(strategy)","fallbacks":[\#(fb)],"deployments":[\#(deployments.joined(separator: ","))]}"#
    }

    static func catalog(_ models: [String]) -> String { #"{"models":[\#(models.joined(separator: ","))]}"# }
}

/// A chat body.
func chatBody(model: String, content: String = "Say hello", stream: Bool = false, includeUsage: Bool = false, extra: String = "") -> String {
    var s = #"{"model":"\#(model)","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"\#(content)"}]"#
    if stream { s += #","stream":true"# }
    if includeUsage { s += #","stream_options":{"include_usage":true}"# }
    if !extra.isEmpty { s += "," + extra }
    return s + "}"
}
