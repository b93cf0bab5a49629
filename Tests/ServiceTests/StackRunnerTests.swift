import BulkheadHTTP
import BulkheadObservability
import BulkheadTesting
import Foundation
import StackRunner
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The stack runner: its routing table, command line, restart policy and helpers, the ingress
/// over real sockets in front of in-process upstreams, supervision of real child processes,
/// and (with `BULKHEAD_BIN_DIR`) the whole `bulkhead run` binary.
@Suite("Stack runner")
struct StackRunnerTests {
    // MARK: Routing table

    @Test(arguments: [
        ("/v1/auth/login", IngressRoute.forward(.auth)),
        ("/v1/auth/token?grant=x", .forward(.auth)),
        ("/v1/auth", .forward(.auth)),
        ("/v1/api-keys", .forward(.auth)),
        ("/v1/api-keys/k_1", .forward(.auth)),
        ("/.well-known/jwks.json", .forward(.auth)),
        ("/v1/chat/completions", .forward(.inferenceGateway)),
        ("/v1/embeddings", .forward(.inferenceGateway)),
        ("/v1/models", .forward(.inferenceGateway)),
        ("/v1/models/claude", .forward(.inferenceGateway)),
        ("/v1/me/profile", .forward(.apiCore)),
        ("/v1/jobs", .forward(.apiCore)),
        ("/v1/jobs/42?wait=1", .forward(.apiCore)),
        ("/v1//jobs", .forward(.apiCore)),
        ("/v1/stream", .forward(.apiCore)),
        ("/v1/usage", .forward(.apiCore)),
        ("/openapi.json", .forward(.apiCore)),
    ])
    func routesByPrefix(path: String, expected: IngressRoute) {
        #expect(IngressRouteTable.standard.route(path: path) == expected)
    }

    @Test(arguments: ["/internal/usage", "/internal", "/internal/", "//internal/x", "/%69nternal/x", "/INTERNAL/x", "/internal?x=1"])
    func internalIsNeverRouted(path: String) {
        #expect(IngressRouteTable.standard.route(path: path) == .internalRefused)
    }

    @Test(arguments: ["/", "/v1", "/v1/jobsx", "/v1/authx/login", "/healthz", "/readyz", "/metrics", "/v2/jobs", "v1/jobs", "*"])
    func everythingElseIsNotFound(path: String) {
        #expect(IngressRouteTable.standard.route(path: path) == .notFound)
    }

    @Test(arguments: ["/v1/auth/../internal/x", "/v1/jobs/%2e%2e/%2e%2e/internal", "/v1/jobs/..%2F..%2Finternal", "/v1/auth/./x"])
    func dotSegmentsAreRefused(path: String) {
        #expect(IngressRouteTable.standard.route(path: path) == .unsafePath)
    }

    @Test func longestPrefixWinsWhateverTheOrder() {
        let table = IngressRouteTable(rules: [
            .init(prefix: "/v1", upstream: .apiCore),
            .init(prefix: "/v1/auth/", upstream: .auth),
        ])
        #expect(table.route(path: "/v1/auth/login") == .forward(.auth))
        #expect(table.route(path: "/v1/jobs") == .forward(.apiCore))
    }

    // MARK: Command line

    @Test func helpInAnyPosition() throws {
        #expect(try RunnerArgumentParser.parse(["--help"]) == .help)
        #expect(try RunnerArgumentParser.parse(["-h"]) == .help)
        #expect(try RunnerArgumentParser.parse(["help"]) == .help)
        #expect(try RunnerArgumentParser.parse(["run", "--port", "9000", "--help"]) == .help)
    }

    @Test func defaults() throws {
        guard case .run(let options) = try RunnerArgumentParser.parse(["run"]) else {
            Issue.record("expected run")
            return
        }
        #expect(options == RunnerOptions())
        #expect(options.host == "127.0.0.1")
        #expect(options.port == 8000)
        #expect(options.basePort == 8080)
        #expect(options.dataDirectory == "./.data")
        #expect(options.binDirectory == nil)
        #expect(options.readyTimeout == .seconds(60))
        #expect(options.stopTimeout == .seconds(15))
    }

    @Test func everyFlagBothSpellings() throws {
        let command = try RunnerArgumentParser.parse([
            "run", "--port", "9000", "--host=0.0.0.0", "--base-port", "9080", "--data-dir=/tmp/d", "--bin-dir", "bin",
            "--ready-timeout", "1.5", "--stop-timeout=500ms", "--upstream-timeout", "30s",
        ])
        var expected = RunnerOptions()
        expected.port = 9000
        expected.host = "0.0.0.0"
        expected.basePort = 9080
        expected.dataDirectory = "/tmp/d"
        expected.binDirectory = "bin"
        expected.readyTimeout = .milliseconds(1500)
        expected.stopTimeout = .milliseconds(500)
        expected.upstreamTimeout = .seconds(30)
        #expect(command == .run(expected))
    }

    @Test func environmentThenFlags() throws {
        let env = ["PORT": "7000", "HOST": "::1", "DATA_DIR": "/var/lib/bulkhead"]
        guard case .run(let fromEnv) = try RunnerArgumentParser.parse(["run"], environment: env) else {
            Issue.record("expected run")
            return
        }
        #expect(fromEnv.port == 7000)
        #expect(fromEnv.host == "::1")
        #expect(fromEnv.dataDirectory == "/var/lib/bulkhead")
        guard case .run(let overridden) = try RunnerArgumentParser.parse(["run", "--port", "7100", "--data-dir", "d"], environment: env) else {
            Issue.record("expected run")
            return
        }
        #expect(overridden.port == 7100)
        #expect(overridden.dataDirectory == "d")
    }

    @Test(arguments: [
        ([], "missing command"),
        (["start"], "unknown command 'start'"),
        (["--port", "1"], "unknown option '--port'"),
        (["run", "--bogus"], "unknown option '--bogus'"),
        (["run", "-x"], "unknown option '-x'"),
        (["run", "extra"], "unexpected argument 'extra'"),
        (["run", "--port"], "'--port' needs a value"),
        (["run", "--port", "--host", "::1"], "'--port' needs a value"),
        (["run", "--port", "70000"], "--port must be a whole number"),
        (["run", "--port", "eighty"], "--port must be a whole number"),
        (["run", "--base-port", "65530"], "--base-port must be a whole number"),
        (["run", "--port", "8083"], "collides with the service ports 8080-8087"),
        (["run", "--base-port", "9000", "--port", "9006"], "collides with the service ports 9000-9007"),
        (["run", "--host", "localhost"], "--host must be an IP address"),
        (["run", "--ready-timeout", "0"], "--ready-timeout must be a duration"),
        (["run", "--stop-timeout", "soon"], "--stop-timeout must be a duration"),
        (["run", "--data-dir="], "--data-dir must not be empty"),
    ])
    func badCommandLines(arguments: [String], message: String) {
        #expect {
            try RunnerArgumentParser.parse(arguments)
        } throws: { error in
            guard let error = error as? ArgumentError else { return false }
            return error.message.contains(message)
        }
    }

    @Test func badEnvironmentIsNamed() {
        #expect(throws: ArgumentError.self) { try RunnerArgumentParser.parse(["run"], environment: ["PORT": "x"]) }
        #expect(throws: ArgumentError.self) { try RunnerArgumentParser.parse(["run"], environment: ["PORT": "8082"]) }
        #expect(throws: Never.self) { try RunnerArgumentParser.parse(["run"], environment: ["PORT": ""]) }
    }

    @Test func usageMentionsEveryFlag() {
        for flag in ["--port", "--host", "--base-port", "--data-dir", "--bin-dir", "--ready-timeout", "--stop-timeout", "--upstream-timeout", "--help"] {
            #expect(RunnerUsage.text.contains(flag), "usage lacks \(flag)")
        }
    }

    @Test func helpAndErrorsGiveExitStatuses() async {
        #expect(await BulkheadCommand.main(["bulkhead", "--help"], environment: [:]) == 0)
        #expect(await BulkheadCommand.main(["bulkhead", "run", "--nope"], environment: [:]) == 2)
        #expect(await BulkheadCommand.main(["bulkhead"], environment: [:]) == 2)
    }

    // MARK: Restart policy, environment, token, small helpers

    @Test func backoffDoublesToThirtySecondsAndResetsAfterAHealthyMinute() {
        var backoff = RestartBackoff()
        let quick = Duration.milliseconds(100)
        let delays = (0..<9).map { _ in backoff.delay(afterRunningFor: quick) }
        #expect(delays == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30), .seconds(30)])
        #expect(backoff.delay(afterRunningFor: .seconds(59)) == .seconds(30))
        #expect(backoff.delay(afterRunningFor: .seconds(60)) == .milliseconds(500))
        #expect(backoff.delay(afterRunningFor: quick) == .seconds(1))
    }

    @Test func childEnvironment() {
        let env = ChildEnvironment(
            inherited: ["PATH": "/usr/bin", "PORT": "8000", "HOST": "0.0.0.0", "LOG_LEVEL": "debug", "DATA_DIR": "/elsewhere"],
            basePort: 9080, dataDirectory: "/srv/data", internalToken: "t0k")
        let auth = env.variables(for: .auth)
        #expect(auth["HOST"] == "127.0.0.1")
        #expect(auth["PORT"] == "9081")
        #expect(auth["DATA_DIR"] == "/srv/data/auth")
        #expect(auth["BULKHEAD_INTERNAL_TOKEN"] == "t0k")
        #expect(auth["PATH"] == "/usr/bin")
        #expect(auth["LOG_LEVEL"] == "debug")
        #expect(auth["AUTH_URL"] == "http://127.0.0.1:9081")
        #expect(auth["API_CORE_URL"] == "http://127.0.0.1:9080")
        #expect(auth["GATEWAY_URL"] == "http://127.0.0.1:9082")
        #expect(auth["QUEUE_BROKER_URL"] == "http://127.0.0.1:9083")
        #expect(auth["CACHE_URL"] == "http://127.0.0.1:9084")
        #expect(auth["METRICS_URL"] == "http://127.0.0.1:9085")
        #expect(auth["AUTOSCALER_URL"] == "http://127.0.0.1:9086")
        #expect(env.variables(for: .autoscaler)["PORT"] == "9086")
        // CPU priority: the AI tier below the core, whatever the runner's own environment says.
        let worker = env.variables(for: .inferenceWorker)
        #expect(worker["BULKHEAD_SCHED_POLICY"] == "idle" && worker["BULKHEAD_NICE"] == "10" && worker["GATEWAY_MODE"] == "worker")
        #expect(env.variables(for: .queueBroker)["BULKHEAD_SCHED_POLICY"] == "idle")
        #expect(auth["BULKHEAD_SCHED_POLICY"] == nil && auth["BULKHEAD_NICE"] == nil)
        let optedOut = ChildEnvironment(
            inherited: ["BULKHEAD_AI_SCHED_POLICY": "normal", "BULKHEAD_SCHED_POLICY": "idle", "BULKHEAD_NICE": "5"],
            basePort: 9080, dataDirectory: "/srv/data", internalToken: "t0k")
        #expect(optedOut.variables(for: .cache)["BULKHEAD_SCHED_POLICY"] == "normal")
        #expect(optedOut.variables(for: .apiCore)["BULKHEAD_SCHED_POLICY"] == nil && optedOut.variables(for: .apiCore)["BULKHEAD_NICE"] == nil)
        #expect(env.entries(for: .cache).contains("DATA_DIR=/srv/data/cache"))
        #expect(
            StackService.all.map(\.name)
                == ["api-core", "auth", "inference-gateway", "queue-broker", "cache", "metrics", "autoscaler", "inference-worker"])
        // The worker is the gateway's executable in worker mode, with its own port and data folder.
        #expect(StackService.inferenceWorker.executable == "inference-gateway")
        #expect(env.variables(for: .inferenceWorker)["GATEWAY_MODE"] == "worker")
        #expect(env.variables(for: .inferenceWorker)["PORT"] == "9087")
        #expect(env.variables(for: .inferenceGateway)["GATEWAY_MODE"] == nil)
        #expect(env.entries(for: .inferenceWorker).contains("DATA_DIR=/srv/data/inference-worker"))
    }

    @Test func internalTokenIsGeneratedOncePrivatelyAndKept() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        let first = try InternalToken.resolve(environment: [:], dataDirectory: dir)
        #expect(first.count == 64)
        #expect(first.allSatisfy { $0.isHexDigit })
        var st = stat()
        #expect(stat(dir + "/internal-token", &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(try InternalToken.resolve(environment: [:], dataDirectory: dir) == first)
        #expect(try InternalToken.resolve(environment: ["BULKHEAD_INTERNAL_TOKEN": "from-env"], dataDirectory: dir) == "from-env")
        #expect(try InternalToken.resolve(environment: ["BULKHEAD_INTERNAL_TOKEN": ""], dataDirectory: dir) == first)
        #expect(InternalToken.generate() != InternalToken.generate())
    }

    @Test func exitStatusDecoding() {
        #expect(ExitStatus(waitStatus: 0) == .exited(code: 0))
        #expect(ExitStatus(waitStatus: 3 << 8) == .exited(code: 3))
        #expect(ExitStatus(waitStatus: SIGKILL) == .signaled(signal: SIGKILL))
        #expect(ExitStatus(waitStatus: SIGTERM | 0x80) == .signaled(signal: SIGTERM))  // core dump bit
    }

    @Test func endpointsTableIsAligned() {
        let table = EndpointsTable(rows: [
            .init(service: "api-core", url: "http://127.0.0.1:8080", pid: 41),
            .init(service: "inference-gateway", url: "http://127.0.0.1:8082", pid: 4242),
            .init(service: "ingress", url: "http://127.0.0.1:8000", pid: nil),
        ]).render()
        #expect(
            table == """
                SERVICE            URL                    PID
                api-core           http://127.0.0.1:8080  41
                inference-gateway  http://127.0.0.1:8082  4242
                ingress            http://127.0.0.1:8000  -

                """)
    }

    @Test func pathsAndPorts() throws {
        #expect(ExecutableLocator.directory(of: "/a/b/bulkhead") == "/a/b")
        #expect(ExecutableLocator.directory(of: "/bulkhead") == "/")
        #expect(ExecutableLocator.directory(of: "bulkhead") == ".")
        #expect(ExecutableLocator.absolute("/x/y") == "/x/y")
        #expect(ExecutableLocator.absolute("./.data").hasSuffix("/.data"))
        #expect(ExecutableLocator.absolute("./.data").hasPrefix("/"))
        #expect(ExecutableLocator.currentExecutable()?.hasPrefix("/") == true)
        let listener = try listeningSocket()
        defer { close(listener.fd) }
        #expect(!PortCheck.isFree(host: "127.0.0.1", port: listener.port))
    }

    @Test func proxyHeaderRewriting() {
        let head = HTTPRequestHead(
            method: .post, target: "/v1/jobs",
            headers: [
                "Host": "api.example", "Connection": "keep-alive, X-Hop", "X-Hop": "1", "Keep-Alive": "timeout=5",
                "Proxy-Authorization": "Basic x", "TE": "trailers", "Upgrade": "h2c", "Transfer-Encoding": "chunked",
                "Content-Length": "2", "X-Forwarded-For": "10.0.0.1", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "Authorization": "Bearer k", "X-Request-Id": "req-1",
            ])
        let out = ProxyHeaders.upstreamRequestHeaders(for: HTTPRequest(head: head, body: [1, 2], remoteAddress: "192.0.2.7"), requestID: "unused")
        for dropped in ["connection", "x-hop", "keep-alive", "proxy-authorization", "te", "upgrade", "transfer-encoding", "content-length"] {
            #expect(!out.contains(dropped), "\(dropped) was forwarded")
        }
        #expect(out["host"] == "api.example")
        #expect(out["authorization"] == "Bearer k")
        #expect(out["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(out.values("x-request-id") == ["req-1"])
        #expect(out["x-forwarded-for"] == "10.0.0.1, 192.0.2.7")
        #expect(out["x-forwarded-proto"] == "http")
        #expect(out["x-forwarded-host"] == "api.example")
        let generated = ProxyHeaders.upstreamRequestHeaders(for: HTTPRequest(head: HTTPRequestHead(method: .get, target: "/")), requestID: "gen-1")
        #expect(generated["x-request-id"] == "gen-1")

        let response = ProxyHeaders.downstreamResponseHeaders([
            "Content-Type": "text/event-stream", "Connection": "close, X-Private", "X-Private": "1", "Content-Length": "10",
            "Date": "yesterday", "Cache-Control": "no-cache", "Set-Cookie": "a=1", "Transfer-Encoding": "chunked",
        ])
        #expect(response.map(\.name) == ["Content-Type", "Cache-Control", "Set-Cookie"])
    }

    // MARK: Ingress over real sockets

    @Test func ingressProxiesStatusHeadersAndBody() async throws {
        var upstream = Router()
        upstream.post("/v1/jobs") { request, _ in
            var echo = "method=\(request.method) target=\(request.head.target) body=\(String(decoding: request.body, as: UTF8.self))"
            for name in ["host", "traceparent", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "connection", "x-hop", "keep-alive"] {
                echo += "\n\(name)=\(request.headers.first(name) ?? "-")"
            }
            return HTTPResponse(
                status: .created, contentType: "text/plain", body: Array(echo.utf8),
                headers: ["X-Upstream": "api-core", "Set-Cookie": "a=1"])
        }
        upstream.get("/v1/jobs/{id}") { _, context in
            .json(bytes: Array("{\"id\":\"\(context.parameters["id"] ?? "")\"}".utf8), status: .ok, headers: ["ETag": "\"v1\""])
        }
        upstream.get("/v1/jobs/empty") { _, _ in HTTPResponse(status: .noContent) }
        upstream.get("/internal/x") { _, _ in .text("internal data that must stay private") }
        try await withTestServer(upstream) { api in
            try await withIngress(upstreams: [.apiCore: "http://127.0.0.1:\(api.port)"]) { ingress in
                let c = try RawConnection(port: ingress.port)
                try c.send(
                    "POST /v1/jobs?priority=high HTTP/1.1\r\nHost: api.example\r\nContent-Length: 7\r\n"
                        + "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
                        + "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Request-Id: abc-123\r\n\r\n"
                        + "payload")
                let created = try c.readResponse()
                #expect(created.status == 201)
                #expect(created.header("x-upstream") == "api-core")
                #expect(created.header("set-cookie") == "a=1")
                #expect(created.header("content-type") == "text/plain")
                #expect(created.header("x-request-id") == "abc-123")
                let lines = created.text.split(separator: "\n").map(String.init)
                #expect(lines.first == "method=POST target=/v1/jobs?priority=high body=payload")
                #expect(lines.contains("host=api.example"))
                #expect(lines.contains("traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                #expect(lines.contains("x-request-id=abc-123"))
                #expect(lines.contains("x-forwarded-for=127.0.0.1"))
                #expect(lines.contains("x-forwarded-proto=http"))
                #expect(lines.contains("x-hop=-"))
                #expect(lines.contains("keep-alive=-"))

                // Same connection (keep-alive through the ingress), a JSON route with a parameter.
                try c.send("GET /v1/jobs/42 HTTP/1.1\r\nHost: x\r\n\r\n")
                let job = try c.readResponse()
                #expect(job.status == 200)
                #expect(job.text == #"{"id":"42"}"#)
                #expect(job.header("etag") == "\"v1\"")
                #expect(job.header("content-type") == "application/json")

                try c.send("GET /v1/jobs/empty HTTP/1.1\r\nHost: x\r\n\r\n")
                let empty = try c.readResponse()
                #expect(empty.status == 204)
                #expect(empty.body.isEmpty)

                // The upstream has /internal/x, but the ingress never routes there.
                for path in ["/internal/x", "//internal/x", "/%69nternal/x", "/v1/jobs/../../internal/x"] {
                    try c.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
                    let refused = try c.readResponse()
                    #expect(refused.status == 404, "\(path)")
                    #expect(refused.errorCode == "not_found")
                    #expect(!refused.text.contains("private"))
                }
                try c.send("GET /somewhere/else HTTP/1.1\r\nHost: x\r\n\r\n")
                let missing = try c.readResponse()
                #expect(missing.status == 404)
                #expect(missing.errorCode == "not_found")
                #expect(missing.header("content-type") == "application/json")
            }
        }
    }

    @Test func sseStreamsThroughUnbuffered() async throws {
        let gate = AsyncGate()
        var gateway = Router()
        gateway.post("/v1/chat/completions") { _, _ in
            .stream(headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-cache"]) { writer in
                try await writer.write("data: {\"token\":\"Hel\"}\n\n")
                // The next event is only produced once the client has seen this one through the ingress.
                guard await gate.wait(timeout: .seconds(10)) else { return }
                try await writer.write("data: {\"token\":\"lo\"}\n\n")
                try await Task.sleep(for: .milliseconds(50))
                try await writer.write("data: [DONE]\n\n")
            }
        }
        try await withTestServer(gateway) { upstream in
            try await withIngress(upstreams: [.inferenceGateway: "http://127.0.0.1:\(upstream.port)"]) { ingress in
                let c = try RawConnection(port: ingress.port)
                try c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                var seen: [UInt8] = []
                let deadline = ContinuousClock.now + .seconds(5)
                while !String(decoding: seen, as: UTF8.self).contains("Hel") && ContinuousClock.now < deadline {
                    seen += try c.receive(timeout: .milliseconds(100)) ?? []
                }
                let first = String(decoding: seen, as: UTF8.self)
                #expect(first.hasPrefix("HTTP/1.1 200"))
                #expect(first.contains("Content-Type: text/event-stream"))
                #expect(first.contains("Cache-Control: no-cache"))
                #expect(first.contains("data: {\"token\":\"Hel\"}"))
                #expect(!first.contains("[DONE]"))
                gate.open()
                while !String(decoding: seen, as: UTF8.self).hasSuffix("0\r\n\r\n") && ContinuousClock.now < deadline + .seconds(5) {
                    seen += try c.receive(timeout: .milliseconds(100)) ?? []
                }
                let all = String(decoding: seen, as: UTF8.self)
                #expect(all.contains("data: {\"token\":\"lo\"}"))
                #expect(all.contains("data: [DONE]"))
                #expect(all.hasSuffix("0\r\n\r\n"))
            }
        }
        #expect(gate.isOpen, "the first event never arrived through the ingress")
    }

    @Test func deadUpstreamIs502AndSlowUpstreamIs504() async throws {
        let deadPort = try unusedPort()
        var slow = Router()
        slow.get("/v1/models") { _, _ in
            try await Task.sleep(for: .seconds(3))
            return .text("too late")
        }
        try await withTestServer(slow) { upstream in
            try await withIngress(
                upstreams: [.auth: "http://127.0.0.1:\(deadPort)", .inferenceGateway: "http://127.0.0.1:\(upstream.port)"],
                configure: { $0.upstreamTimeout = .milliseconds(300) }
            ) { ingress in
                let c = try RawConnection(port: ingress.port)
                try c.send("GET /v1/auth/login HTTP/1.1\r\nHost: x\r\n\r\n")
                let down = try c.readResponse()
                #expect(down.status == 502)
                #expect(down.errorCode == "upstream_unavailable")
                #expect(down.header("content-type") == "application/json")

                let started = ContinuousClock.now
                try c.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
                let late = try c.readResponse()
                #expect(late.status == 504)
                #expect(late.errorCode == "upstream_timeout")
                #expect(ContinuousClock.now - started < .seconds(2))

                // Routes whose upstream is not configured at all.
                try c.send("GET /v1/jobs HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try c.readResponse().status == 502)
            }
        }
    }

    @Test func bodyLimitAndWebSocketUpgrades() async throws {
        var api = Router()
        api.post("/v1/jobs", bodyLimit: 64 << 20) { request, _ in .text("got \(request.body.count)") }
        try await withTestServer(api, configure: { $0.defaultMaxBodyBytes = 64 << 20 }) { upstream in
            try await withIngress(upstreams: [.apiCore: "http://127.0.0.1:\(upstream.port)"]) { ingress in
                #expect(IngressConfiguration.maxRequestBodyBytes == 8 * 1024 * 1024)
                let big = try RawConnection(port: ingress.port)
                try big.send("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: \(8 * 1024 * 1024 + 1)\r\n\r\n")
                let refused = try big.readResponse()
                #expect(refused.status == 413)

                let ok = try RawConnection(port: ingress.port)
                let body = [UInt8](repeating: 0x61, count: 1 << 20)
                try ok.send(Array("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
                #expect(try ok.readResponse().text == "got \(1 << 20)")

                let ws = try RawConnection(port: ingress.port)
                try ws.send(
                    "GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                // Upgrades are relayed now (IngressWebSocketTests): this upstream has no such
                // route, so its own 404 comes back rather than a 101.
                let answer = try ws.readResponse()
                #expect(answer.status == 404)
                #expect(answer.errorCode == "not_found")
            }
        }
    }

    // MARK: Supervision of real processes

    @Test func supervisorRestartsACrashingChildAndStopsARunningOne() async throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        let crasher = try script(in: dir, name: "crasher", "echo \"$PORT $DATA_DIR\" >> \"\(dir)/runs\"\nexit 3")
        let logs = InMemoryLogSink()
        let logger = Logger(service: "bulkhead", sink: logs)
        let supervisor = ServiceSupervisor(
            service: .cache,
            launch: .init(executable: crasher, environment: ["PORT=9184", "DATA_DIR=\(dir)/cache", "PATH=/usr/bin:/bin"], trampoline: nil),
            logger: logger, backoff: RestartBackoff(initial: .milliseconds(10), maximum: .milliseconds(40)))
        supervisor.start()
        let deadline = ContinuousClock.now + .seconds(10)
        while supervisor.restarts < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        supervisor.beginStop()
        await supervisor.waitUntilFinished()
        #expect(supervisor.restarts >= 3)
        #expect(supervisor.isFinished)
        let runs = (try? String(contentsOfFile: dir + "/runs", encoding: .utf8)) ?? ""
        #expect(runs.split(separator: "\n").first == "9184 \(dir)/cache")
        let restartLines = logs.lines.filter { $0.contains("\"msg\":\"restarting service\"") }
        #expect(restartLines.count >= 3)
        #expect(restartLines.first?.contains("\"child\":\"cache\"") == true)
        #expect(restartLines.first?.contains("\"exit_code\":3") == true, "\(restartLines.first ?? "")")
        #expect(restartLines.first?.contains("\"delay_ms\":10") == true)

        let sleeper = try script(in: dir, name: "sleeper", "exec sleep 30")
        let running = ServiceSupervisor(
            service: .metrics, launch: .init(executable: sleeper, environment: ["PATH=/usr/bin:/bin"], trampoline: nil), logger: logger)
        running.start()
        while running.pid == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let pid = try #require(running.pid)
        let stopStarted = ContinuousClock.now
        running.beginStop()
        await running.waitUntilFinished()
        #expect(ContinuousClock.now - stopStarted < .seconds(5))
        #expect(running.restarts == 0)
        #expect(kill(pid, 0) != 0)  // gone and reaped
        #expect(logs.lines.contains { $0.contains("\"msg\":\"service stopped\"") && $0.contains("\"signal\":15") })
    }

    @Test func runnerRefusesMissingBinariesAndBusyPorts() async throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        let logs = InMemoryLogSink()
        var options = RunnerOptions()
        options.binDirectory = dir
        options.dataDirectory = dir + "/data"
        let missing = StackRunner(options: options, environment: [:], logger: Logger(service: "bulkhead", sink: logs), trampoline: nil)
        #expect(await missing.run() == 1)
        #expect(logs.lines.contains { $0.contains("service executables missing") && $0.contains("api-core") })

        for service in StackService.all { _ = try script(in: dir, name: service.executable, "exit 0") }
        let listener = try listeningSocket()
        defer { close(listener.fd) }
        options.port = listener.port
        options.basePort = 1
        let busy = StackRunner(options: options, environment: [:], logger: Logger(service: "bulkhead", sink: logs), trampoline: nil)
        #expect(await busy.run() == 1)
        #expect(logs.lines.contains { $0.contains("ports already in use") && $0.contains("\(listener.port) (ingress)") })

        // A CPU policy for the AI tier that the kernel has no name for is refused before anything starts.
        let badPolicy = StackRunner(
            options: options, environment: ["BULKHEAD_AI_SCHED_POLICY": "fast"], logger: Logger(service: "bulkhead", sink: logs), trampoline: nil)
        #expect(await badPolicy.run() == 1)
        #expect(logs.lines.contains { $0.contains("BULKHEAD_AI_SCHED_POLICY: expected batch, idle, normal, got") && $0.contains("fast") })
    }

    // MARK: The whole binary (needs built executables)

    /// Runs `bulkhead run` from `BULKHEAD_BIN_DIR` (for example `.build/release`) on free ports,
    /// checks the endpoints table, the ingress and /internal refusal, then SIGTERM: exit 0, no child left.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BULKHEAD_BIN_DIR"] != nil), .timeLimit(.minutes(2)))
    func wholeStackAsProcesses() async throws {
        let binDir = try #require(ProcessInfo.processInfo.environment["BULKHEAD_BIN_DIR"])
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        let basePort = try freeBasePort()
        let ingressPort = try unusedPort()
        var env = ProcessInfo.processInfo.environment
        env["LOG_LEVEL"] = "warning"
        let process = try TestProcess(
            path: binDir + "/bulkhead",
            arguments: ["run", "--base-port", String(basePort), "--port", String(ingressPort), "--data-dir", dir, "--bin-dir", binDir],
            environment: env)
        defer { if process.isRunning { process.signal(SIGKILL) } }

        let deadline = ContinuousClock.now + .seconds(70)
        while !process.output.contains("Stack ready") && process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let output = process
        let table = output.output
        try #require(table.contains("Stack ready"), "no ready line; output so far: \(table)")
        var childPIDs: [pid_t] = []
        for service in StackService.all {
            let row = try #require(table.split(separator: "\n").first { $0.hasPrefix(service.name + " ") })
            #expect(row.contains("http://127.0.0.1:\(service.port(basePort: basePort))"))
            if let pid = row.split(separator: " ").last.flatMap({ pid_t($0) }) { childPIDs.append(pid) }
        }
        #expect(childPIDs.count == StackService.all.count)
        // The AI job worker runs at a lower CPU priority than the core services.
        for service in StackService.all {
            let row = try #require(table.split(separator: "\n").first { $0.hasPrefix(service.name + " ") })
            guard let pid = row.split(separator: " ").last.flatMap({ pid_t($0) }) else { continue }
            let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            // Fields after the command's closing parenthesis: state is field 3, nice is field 19,
            // the scheduling policy field 41 (5 = SCHED_IDLE, 0 = SCHED_OTHER).
            let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
            #expect(fields[16] == (service.isAITier ? "10" : "0"), "nice of \(service.name)")
            #expect(fields[38] == (service.isAITier ? "5" : "0"), "scheduling policy of \(service.name)")
        }

        let c = try RawConnection(port: ingressPort)
        try c.send("GET /internal/health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readResponse().status == 404)
        try c.send("GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        let spec = try c.readResponse(timeout: .seconds(10))
        #expect(spec.status != 502 && spec.status != 504)
        try c.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        let models = try c.readResponse(timeout: .seconds(10))
        #expect(models.status != 502 && models.status != 504)

        var st = stat()
        #expect(stat(dir + "/internal-token", &st) == 0 && st.st_mode & 0o777 == 0o600)

        process.signal(SIGTERM)
        let status = await process.waitForExit(timeout: .seconds(25))
        #expect(status == 0, "bulkhead run exited with \(String(describing: status))")
        for pid in childPIDs { #expect(kill(pid, 0) != 0, "child \(pid) outlived the runner") }
    }
}

// MARK: - Helpers

private func temporaryDirectory() throws -> String {
    var template = Array("/tmp/stack-runner-test-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestError("mkdtemp failed") }
    return String(cString: p)
}

private func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Writes an executable `/bin/sh` script and returns its path.
private func script(in dir: String, name: String, _ body: String) throws -> String {
    let path = dir + "/" + name
    try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    guard chmod(path, 0o755) == 0 else { throw TestError("chmod \(path) failed") }
    return path
}

/// A socket listening on 127.0.0.1 on a free port.
private func listeningSocket() throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw TestError("socket failed") }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 16) == 0 else {
        close(fd)
        throw TestError("bind/listen failed")
    }
    var out = sockaddr_in()
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &out) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return (fd, Int(UInt16(bigEndian: out.sin_port)))
}

/// A port nothing listens on (bound, then released).
private func unusedPort() throws -> Int {
    let s = try listeningSocket()
    close(s.fd)
    return s.port
}

/// A base port whose service ports are all free.
private func freeBasePort() throws -> Int {
    for _ in 0..<50 {
        let base = Int.random(in: 20000...40000)
        if (base..<(base + StackService.all.count)).allSatisfy({ PortCheck.isFree(host: "127.0.0.1", port: $0) }) { return base }
    }
    throw TestError("no free port range found")
}
