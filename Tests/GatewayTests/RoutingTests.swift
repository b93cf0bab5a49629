import Foundation
import Testing

/// Retries, retry-after, fallbacks, circuit breakers, timeouts and context-window routing
/// against fake upstreams.
@Suite("Routing")
struct RoutingTests {
    @Test func rateLimitWithRetryAfterIsHonouredThenSucceeds() async throws {
        let fake = try FakeUpstream()
        fake.enqueue(.status(429, headers: [("retry-after", "1")]))
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            TestCatalog.model("m", deployments: [TestCatalog.deployment(id: "d1", baseURL: fake.openAIBaseURL)])
        ]))
        let started = ContinuousClock.now
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "m"))
        let elapsed = ContinuousClock.now - started
        #expect(r.status == 200, "\(r.text)")
        #expect(fake.requestCount == 2)
        #expect(elapsed >= .milliseconds(950), "retried after \(elapsed), before the 1 s retry-after")
        let metrics = try await gw.get("/metrics").text
        #expect(metrics.contains(#"gateway_upstream_errors_total{deployment="d1",type="status_429"} 1"#))
        #expect(metrics.contains(#"gateway_retries_total{model="m"} 1"#))
        await gw.stop()
        await fake.shutdown()
    }

    @Test func serverErrorsAreRetriedThenFallBackToAnotherModel() async throws {
        let bad = try FakeUpstream()
        bad.defaultBehavior = .status(503)
        let good = try FakeUpstream()
        good.defaultBehavior = .reply(FakeReply(text: "from the fallback"))
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            TestCatalog.model("primary", fallbacks: ["backup"], deployments: [TestCatalog.deployment(id: "p1", baseURL: bad.openAIBaseURL)]),
            TestCatalog.model("backup", deployments: [TestCatalog.deployment(id: "b1", baseURL: good.openAIBaseURL)]),
        ]))
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "primary"))
        #expect(r.status == 200, "\(r.text)")
        #expect(r.header("x-bulkhead-deployment") == "b1")
        #expect(bad.requestCount == 3)  // GATEWAY_MAX_ATTEMPTS default 3
        #expect(good.requestCount == 1)
        let metrics = try await gw.get("/metrics").text
        #expect(metrics.contains(#"gateway_fallbacks_total{from="primary",to="backup"} 1"#))
        await gw.stop()
        await bad.shutdown()
        await good.shutdown()
    }

    @Test func exhaustedRetriesAnswerInOpenAIShape() async throws {
        let bad = try FakeUpstream()
        bad.defaultBehavior = .status(500)
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            TestCatalog.model("m", deployments: [TestCatalog.deployment(id: "d1", baseURL: bad.openAIBaseURL)])
        ]))
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "m"))
        #expect(r.status == 502)
        #expect(r.error["code"] as? String == "upstream_error")
        #expect(r.error["type"] as? String == "api_error")
        await gw.stop()
        await bad.shutdown()
    }

    @Test func circuitOpensAfterFailuresAndRecoversThroughHalfOpen() async throws {
        let fake = try FakeUpstream()
        fake.defaultBehavior = .status(500)
        let gw = try await CoreGateway.start(
            catalog: TestCatalog.catalog([
                TestCatalog.model("m", deployments: [
                    TestCatalog.deployment(id: "d1", baseURL: fake.openAIBaseURL, circuit: #"{"failure_threshold":2,"cooldown_ms":300}"#)
                ])
            ]), env: ["GATEWAY_MAX_ATTEMPTS": "1"])
        for _ in 0..<2 { #expect(try await gw.post("/v1/chat/completions", chatBody(model: "m")).status == 502) }
        // Open: refused without calling the upstream.
        let refused = try await gw.post("/v1/chat/completions", chatBody(model: "m"))
        #expect(refused.status == 503)
        #expect(refused.error["code"] as? String == "no_healthy_deployment")
        #expect(fake.requestCount == 2)
        #expect(try await gw.get("/metrics").text.contains(#"gateway_circuit_state{deployment="d1"} 2"#))
        // After the cool-down one probe goes through; it succeeds and closes the circuit.
        fake.defaultBehavior = .reply(FakeReply())
        let deadline = ContinuousClock.now + .seconds(5)
        var status = 0
        while status != 200 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            status = try await gw.post("/v1/chat/completions", chatBody(model: "m")).status
        }
        #expect(status == 200)
        #expect(try await gw.get("/metrics").text.contains(#"gateway_circuit_state{deployment="d1"} 0"#))
        #expect(try await gw.post("/v1/chat/completions", chatBody(model: "m")).status == 200)
        await gw.stop()
        await fake.shutdown()
    }

    @Test func firstTokenTimeoutFailsOverBeforeTheFirstToken() async throws {
        let hanging = try FakeUpstream()
        hanging.defaultBehavior = .hang
        let good = try FakeUpstream()
        good.defaultBehavior = .reply(FakeReply(text: "fast answer"))
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            TestCatalog.model("m", fallbacks: ["m2"], deployments: [
                TestCatalog.deployment(id: "slow", baseURL: hanging.openAIBaseURL, timeouts: #"{"first_token_ms":200}"#)
            ]),
            TestCatalog.model("m2", deployments: [TestCatalog.deployment(id: "fast", baseURL: good.openAIBaseURL)]),
        ]), env: ["GATEWAY_MAX_ATTEMPTS": "1"])
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "m", stream: true))
        #expect(r.status == 200)
        #expect(r.header("x-bulkhead-deployment") == "fast")
        let text = r.events.compactMap { (($0 as? [String: Any])?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            .compactMap { $0["content"] as? String }.joined()
        #expect(text == "fast answer")
        #expect(try await gw.get("/metrics").text.contains(#"gateway_upstream_errors_total{deployment="slow",type="first_token_timeout"} 1"#))
        await gw.stop()
        await hanging.shutdown()
        await good.shutdown()
    }

    @Test func totalTimeoutEndsAHangingCall() async throws {
        let hanging = try FakeUpstream()
        hanging.defaultBehavior = .hang
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            TestCatalog.model("m", deployments: [
                TestCatalog.deployment(id: "slow", baseURL: hanging.openAIBaseURL, timeouts: #"{"total_ms":250}"#)
            ])
        ]), env: ["GATEWAY_MAX_ATTEMPTS": "1"])
        let started = ContinuousClock.now
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "m"))
        #expect(r.status == 504)
        #expect(r.error["code"] as? String == "upstream_timeout")
        #expect(ContinuousClock.now - started < .seconds(5))
        await gw.stop()
        await hanging.shutdown()
    }

    @Test func promptsTooBigForAContextWindowGoToAFallback() async throws {
        let small = try FakeUpstream()
        let big = try FakeUpstream()
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            TestCatalog.model("small", fallbacks: ["big"], deployments: [
                TestCatalog.deployment(id: "small-1", baseURL: small.openAIBaseURL, contextWindow: 100)
            ]),
            TestCatalog.model("big", deployments: [TestCatalog.deployment(id: "big-1", baseURL: big.openAIBaseURL, contextWindow: 100_000)]),
        ]))
        let long = String(repeating: "word ", count: 400)
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "small", content: long))
        #expect(r.status == 200)
        #expect(r.header("x-bulkhead-deployment") == "big-1")
        #expect(small.requestCount == 0)  // skipped before calling it

        // An upstream that says context_length_exceeded also sends the call to the fallback.
        small.enqueue(.status(400, body: #"{"error":{"message":"This model's maximum context length is 100 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#))
        let r2 = try await gw.post("/v1/chat/completions", chatBody(model: "small"))
        #expect(r2.status == 200)
        #expect(r2.header("x-bulkhead-deployment") == "big-1")
        #expect(small.requestCount == 1)

        // No model of the chain fits: 400 context_length_exceeded before any call.
        let r3 = try await gw.post("/v1/chat/completions", chatBody(model: "big", content: String(repeating: "word ", count: 120_000)))
        #expect(r3.status == 400)
        #expect(r3.error["code"] as? String == "context_length_exceeded")
        await gw.stop()
        await small.shutdown()
        await big.shutdown()
    }

    @Test func weightedStrategySplitsByWeight() async throws {
        let a = try FakeUpstream()
        let b = try FakeUpstream()
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            TestCatalog.model("m", strategy: "weighted", deployments: [
                TestCatalog.deployment(id: "a", baseURL: a.openAIBaseURL, weight: 3),
                TestCatalog.deployment(id: "b", baseURL: b.openAIBaseURL, weight: 1),
            ])
        ]))
        for _ in 0..<200 { _ = try await gw.post("/v1/chat/completions", chatBody(model: "m")) }
        // Expected 150/50; binomial σ ≈ 6, so 110...190 is > 6σ wide.
        #expect((110...190).contains(a.requestCount), "a got \(a.requestCount)")
        #expect(a.requestCount + b.requestCount == 200)
        await gw.stop()
        await a.shutdown()
        await b.shutdown()
    }

    @Test func leastOutstandingAvoidsTheBusyDeployment() async throws {
        let slow = try FakeUpstream()
        slow.defaultBehavior = .reply(FakeReply(ttft: .milliseconds(400)))
        let fast = try FakeUpstream()
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            TestCatalog.model("m", strategy: "least_outstanding", deployments: [
                TestCatalog.deployment(id: "slow", baseURL: slow.openAIBaseURL),
                TestCatalog.deployment(id: "fast", baseURL: fast.openAIBaseURL),
            ])
        ]))
        // 8 concurrent callers, each making 5 sequential calls: the slow deployment holds at most
        // a few at a time, the fast one takes the rest.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<5 { _ = try await gw.post("/v1/chat/completions", chatBody(model: "m")) } }
            }
            try await group.waitForAll()
        }
        #expect(slow.requestCount + fast.requestCount == 40)
        #expect(fast.requestCount >= 28, "fast \(fast.requestCount), slow \(slow.requestCount)")
        #expect(slow.maxInFlight <= 4)
        await gw.stop()
        await slow.shutdown()
        await fast.shutdown()
    }
}
