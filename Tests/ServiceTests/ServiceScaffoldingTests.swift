import APICore
import Auth
import Autoscaler
import BulkheadHTTP
import BulkheadObservability
import BulkheadService
import BulkheadTesting
import Cache
import Foundation
import InferenceGateway
import Metrics
import QueueBroker
import Testing

/// Every service's common surface, in-process: health, readiness, metrics, internal guard.
@Suite("Service scaffolding")
struct ServiceScaffoldingTests {
    static func environment(_ extra: [String: String] = [:]) -> Environment {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bulkhead-svc-\(UUID().uuidString)").path
        var values = ["HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dir, "BULKHEAD_INTERNAL_TOKEN": "test-internal-token", "LOOP_THREADS": "1", "LOG_LEVEL": "error"]
        for (k, v) in extra { values[k] = v }
        return Environment(values)
    }

    static func get(_ port: Int, _ path: String, headers: String = "") throws -> TestResponse {
        let c = try RawConnection(port: port)
        try c.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\(headers)\r\n")
        return try c.readResponse()
    }

    static let all: [any ServiceDefinition.Type] = [
        APICoreService.self, AuthService.self, InferenceGatewayService.self, QueueBrokerService.self,
        CacheService.self, MetricsService.self, AutoscalerService.self,
    ]

    @Test(arguments: 0..<7)
    func serviceServesHealthReadinessAndMetrics(index: Int) async throws {
        let host = try await ServiceHost.start(Self.all[index], environment: Self.environment())
        defer { Task { await host.shutdown() } }
        let health = try Self.get(host.port, "/healthz")
        #expect(health.status == 200)
        #expect(health.text == #"{"status":"ok"}"#)
        let ready = try Self.get(host.port, "/readyz")
        #expect(ready.status == 200, "\(host.name): \(ready.text)")
        #expect(ready.text.contains(#""status":"ready""#))
        let metrics = try Self.get(host.port, "/metrics")
        #expect(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.text.contains("# TYPE http_requests_total counter"))
        #expect(metrics.text.contains(#"http_requests_total{method="GET",route="/healthz",status="200"} 1"#))
        #expect(metrics.text.contains("process_resident_memory_bytes"))
        #expect(health.header("x-request-id") != nil)
        await host.shutdown()
    }

    @Test func readinessFailsWhenTheDataDirectoryIsUnusable() async throws {
        let host = try await ServiceHost.start(AuthService.self, environment: Self.environment(["DATA_DIR": "/proc/not-writable/auth"]))
        let ready = try Self.get(host.port, "/readyz")
        #expect(ready.status == 503)
        #expect(ready.text.contains(#""data_dir":"#))
        await host.shutdown()
    }

    @Test func badConfigurationIsRejectedWithEveryProblemNamed() async throws {
        await #expect(throws: ConfigurationError.self) {
            _ = try await ServiceHost.start(CacheService.self, environment: Self.environment(["PORT": "99999", "IDLE_TIMEOUT": "soon"]))
        }
        do {
            _ = try await ServiceHost.start(CacheService.self, environment: Self.environment(["PORT": "99999", "IDLE_TIMEOUT": "soon"]))
        } catch {
            let text = String(describing: error)
            #expect(text.contains("PORT") && text.contains("IDLE_TIMEOUT"))
        }
    }

    /// A service with an internal route, to check the guard every service gets.
    enum Probe: ServiceDefinition {
        static let name = "probe"
        static let defaultPort = 0
        static func build(_ context: ServiceContext) async throws -> ServiceParts {
            var r = Router()
            r.get("/internal/secret") { _, ctx in .text("caller=\(ctx.principal?.kind.rawValue ?? "none")") }
            r.get("/trace") { request, ctx in
                .text("\(request.headers.first("traceparent") ?? "")|\(ctx.trace.traceID)|\(ctx.requestID)")
            }
            return ServiceParts(router: r)
        }
    }

    @Test func internalRoutesNeedTheServiceCredential() async throws {
        let host = try await ServiceHost.start(Probe.self, environment: Self.environment())
        let none = try Self.get(host.port, "/internal/secret")
        #expect(none.status == 401)
        #expect(none.errorCode == "internal_auth_required")
        let wrong = try Self.get(host.port, "/internal/secret", headers: "Authorization: Bearer nope\r\n")
        #expect(wrong.status == 401)
        let right = try Self.get(host.port, "/internal/secret", headers: "Authorization: Bearer test-internal-token\r\n")
        #expect(right.status == 200 && right.text == "caller=service")
        await host.shutdown()
    }

    @Test func internalRoutesAreClosedWhenNoCredentialIsConfigured() async throws {
        let host = try await ServiceHost.start(Probe.self, environment: Self.environment(["BULKHEAD_INTERNAL_TOKEN": ""]))
        let r = try Self.get(host.port, "/internal/secret", headers: "Authorization: Bearer \r\n")
        #expect(r.status == 401)
        await host.shutdown()
    }

    @Test func traceContextContinuesTheCallersTraceAndRequestIDIsKept() async throws {
        let host = try await ServiceHost.start(Probe.self, environment: Self.environment())
        let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let r = try Self.get(host.port, "/trace", headers: "traceparent: \(parent)\r\nX-Request-Id: abc-123\r\n")
        let parts = r.text.split(separator: "|").map(String.init)
        #expect(parts.count == 3)
        #expect(parts[1] == "0af7651916cd43dd8448eb211c80319c")
        #expect(parts[2] == "abc-123")
        #expect(r.header("x-request-id") == "abc-123")
        // An invalid request id is replaced, not echoed.
        let bad = try Self.get(host.port, "/trace", headers: "X-Request-Id: <script>\r\n")
        #expect(bad.header("x-request-id") != "<script>")
        await host.shutdown()
    }
}
