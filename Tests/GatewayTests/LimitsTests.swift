import BulkheadService
import Foundation
@testable import InferenceGateway
import Shared
import Testing

/// Tenant limits through the tenancy hooks (what the core calls for every request), with plans
/// from a real auth.
@Suite("Limits: plans, throttling, reconciliation", .serialized)
struct LimitsTests {
    static func hooks(_ tenancy: Tenancy) throws -> TenancyHooks { try #require(tenancy.hooks as? TenancyHooks) }

    @Test func aHeavyTenantIsThrottledWhileALightOneKeepsFullSpeed() async throws {
        let auth = try await TenancyTest.startAuth()
        let heavy = try await TenancyTest.signUp(auth, name: "Heavy")
        let light = try await TenancyTest.signUp(auth, name: "Light")
        try await TenancyTest.setPlan(auth, tenant: heavy.tenant, name: "tiny", requestsPerMinute: 3)
        try await TenancyTest.setPlan(auth, tenant: light.tenant, name: "roomy", requestsPerMinute: 1000)
        let tenancy = try await Tenancy.make(TenancyTest.context(["AUTH_URL": auth.baseURL]), localModels: TenancyTest.localModels())
        let hooks = try Self.hooks(tenancy)

        var admittedHeavy = 0
        var refusal: GatewayError?
        for _ in 0..<6 {
            do {
                let ticket = try await hooks.admit(TenancyTest.call(tenant: heavy.tenant))
                admittedHeavy += 1
                await ticket.finish(TenancyTest.outcome(prompt: 10, completion: 5, cost: 50))
            } catch let e as GatewayError { refusal = e }
        }
        #expect(admittedHeavy == 3)
        let error = try #require(refusal)
        #expect(error.status.code == 429 && error.type == "rate_limit_error" && error.code == "requests_per_minute")
        #expect(error.message.contains("requests per minute") && error.message.contains("'tiny'"))
        let retryAfter = try #require(error.headers.first { $0.0 == "Retry-After" }.flatMap { Int($0.1) })
        #expect(retryAfter >= 1 && retryAfter <= 20)  // one request refills in 20 s at 3/min
        #expect(error.headers.contains { $0.0 == "x-ratelimit-limit-requests" && $0.1 == "3" })
        #expect(error.headers.contains { $0.0 == "x-ratelimit-remaining-requests" && $0.1 == "0" })
        #expect(error.headers.contains { $0.0 == "x-ratelimit-reset-tokens" })

        // The light tenant, in the same run, is never refused.
        for _ in 0..<30 {
            let ticket = try await hooks.admit(TenancyTest.call(tenant: light.tenant))
            #expect(ticket.responseHeaders.contains { $0.0 == "x-ratelimit-limit-requests" && $0.1 == "1000" })
            await ticket.finish(TenancyTest.outcome(prompt: 10, completion: 5, cost: 50))
        }
        let metrics = TenancyTest.renderedMetrics(tenancy)
        #expect(metrics.contains(#"gateway_throttled_total{limit="requests_per_minute"} 3"#))
        for step in tenancy.onShutdown { await step() }
        await auth.shutdown()
    }

    @Test func reconciliationRefundsAnOverReservationAndChargesOverruns() async throws {
        let tenancy = try await Tenancy.make(TenancyTest.context(), localModels: TenancyTest.localModels())
        let hooks = try Self.hooks(tenancy)
        let store = hooks.limiter.local
        let tenant = "t-reconcile"
        let keys = LimitKeys(tenant: tenant, epochDay: Int(Date().timeIntervalSince1970 / 86_400))
        // Built-in free plan: 20,000 tokens/min, 100,000 µ$/min, 1,000,000 µ$/day, 1 job × 4 concurrent.
        let ticket = try await hooks.admit(TenancyTest.call(tenant: tenant, promptTokens: 100, maxTokens: 900, reserve: 5_000))
        #expect(store.value(keys.tokens) == 19_000)
        #expect(store.value(keys.cost) == 95_000)
        #expect(store.value(keys.day) == 5_000)
        #expect(store.value(keys.concurrent) == 1)
        await ticket.finish(TenancyTest.outcome(prompt: 100, completion: 20, cost: 1_200))
        await hooks.pending.drain(timeout: .seconds(5))
        // Over-reservation refunded: 1,000 − 120 tokens and 5,000 − 1,200 µ$ come back (±refill).
        let tokens = try #require(store.value(keys.tokens))
        #expect(tokens >= 19_880 && tokens <= 20_000)
        #expect(store.value(keys.day) == 1_200)
        #expect(store.value(keys.concurrent) == 0)

        // A stream that runs past its reservation is charged as it goes (progress) and at the end.
        let stream = try await hooks.admit(TenancyTest.call(tenant: tenant, promptTokens: 10, maxTokens: 10, reserve: 100, stream: true))
        try await Task.sleep(for: TenancyTicket.progressChargeInterval)  // the first charge waits one interval
        await stream.progress(completionTokens: 500, costMicroUSD: 3_000)
        await hooks.pending.drain(timeout: .seconds(5))
        #expect(store.value(keys.day) == 1_200 + 3_000)
        await stream.finish(TenancyTest.outcome(prompt: 10, completion: 800, cost: 4_000))
        await hooks.pending.drain(timeout: .seconds(5))
        #expect(store.value(keys.day) == 1_200 + 4_000)
        #expect(store.value(keys.concurrent) == 0)
        for step in tenancy.onShutdown { await step() }
    }

    @Test func concurrencyAndDailyBudgetAreEnforcedAndFailuresRefund() async throws {
        let tenancy = try await Tenancy.make(
            TenancyTest.context(["GATEWAY_CONCURRENT_REQUESTS_PER_JOB": "2"]), localModels: TenancyTest.localModels())
        let hooks = try Self.hooks(tenancy)
        let tenant = "t-conc"
        let a = try await hooks.admit(TenancyTest.call(tenant: tenant))
        let b = try await hooks.admit(TenancyTest.call(tenant: tenant))
        await #expect(throws: GatewayError.self) { _ = try await hooks.admit(TenancyTest.call(tenant: tenant)) }
        do { _ = try await hooks.admit(TenancyTest.call(tenant: tenant)) } catch let e as GatewayError {
            #expect(e.code == "concurrent_requests")
        }
        // A failed call gives its slot and its whole reservation back.
        await a.finish(TenancyTest.outcome(prompt: 0, completion: 0, cost: 0, errorType: "upstream_error"))
        await hooks.pending.drain(timeout: .seconds(5))
        let c = try await hooks.admit(TenancyTest.call(tenant: tenant))
        await b.finish(TenancyTest.outcome(prompt: 1, completion: 1, cost: 1))
        await c.finish(TenancyTest.outcome(prompt: 1, completion: 1, cost: 1))

        // Daily budget (free: 1,000,000 µ$): a call that would cross it is refused, naming it.
        let spender = "t-budget"
        let big = try await hooks.admit(TenancyTest.call(tenant: spender, reserve: 90_000))
        await big.finish(TenancyTest.outcome(prompt: 1, completion: 1, cost: 999_990))
        await hooks.pending.drain(timeout: .seconds(5))
        do {
            _ = try await hooks.admit(TenancyTest.call(tenant: spender, reserve: 100))
            Issue.record("the daily budget should have refused")
        } catch let e as GatewayError {
            #expect(e.code == "daily_budget" && e.status.code == 429)
        }
        // Service principals have no tenant limits.
        for _ in 0..<10 { _ = try await hooks.admit(TenancyTest.call(tenant: "", kind: .service)) }
        for step in tenancy.onShutdown { await step() }
    }

    @Test func storeDownFailsOpenWithLocalLimitsOrClosedWith503() async throws {
        // A port nothing listens on: connection refused at once.
        let dead = "http://127.0.0.1:9"
        let open = try await Tenancy.make(
            TenancyTest.context(["CACHE_URL": dead, "GATEWAY_LIMITS_ON_STORE_FAILURE": "open"]), localModels: TenancyTest.localModels())
        let openHooks = try Self.hooks(open)
        // Still limited (free plan: 60 requests/min), by this process's local counters.
        var admitted = 0
        for _ in 0..<70 {
            if let t = try? await openHooks.admit(TenancyTest.call(tenant: "t-open")) {
                admitted += 1
                await t.finish(TenancyTest.outcome(prompt: 1, completion: 1, cost: 1))
            }
        }
        #expect(admitted == 60)
        let metrics = TenancyTest.renderedMetrics(open)
        #expect(metrics.contains("gateway_limits_degraded 1"))
        #expect(!metrics.contains("gateway_limit_store_errors_total 0"))
        for step in open.onShutdown { await step() }

        let closed = try await Tenancy.make(
            TenancyTest.context(["CACHE_URL": dead, "GATEWAY_LIMITS_ON_STORE_FAILURE": "closed"]), localModels: TenancyTest.localModels())
        do {
            _ = try await Self.hooks(closed).admit(TenancyTest.call(tenant: "t-closed"))
            Issue.record("fail-closed should refuse")
        } catch let e as GatewayError {
            #expect(e.status.code == 503 && e.type == "api_error" && e.code == "limits_unavailable" && e.retryable)
        }
        #expect(TenancyTest.renderedMetrics(closed).contains("gateway_limits_degraded 1"))
        for step in closed.onShutdown { await step() }
    }
}
