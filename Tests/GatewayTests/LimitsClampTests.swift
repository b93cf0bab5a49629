import Auth
import BulkheadObservability
import BulkheadService
import Cache
import Foundation
@testable import InferenceGateway
import Shared
import Synchronization
import Testing

/// Plans with "unlimited" values beyond what the cache's counter store accepts are clamped into
/// its range, and a 4xx from the store is logged as a bug rather than taken for an outage.
@Suite("Limits: clamping to the counter store's range")
struct LimitsClampTests {
    @Test func opsAreClampedIntoTheStoresRange() {
        let huge = 5_000_000_000_000_000
        let bucket = CounterOp.bucket("k", amount: huge, capacity: huge)
        #expect(bucket.capacity == CounterBounds.maxAmount)
        #expect(bucket.amount == CounterBounds.maxAmount)
        #expect(bucket.refillPerSecond == Double(CounterBounds.maxAmount) / 60)
        #expect(CounterOp.bucket("k", amount: -huge, capacity: 0, force: true).amount == -CounterBounds.maxAmount)
        #expect(CounterOp.bucket("k", amount: 1, capacity: 0).capacity == 1)
        // In-range values pass unchanged.
        let small = CounterOp.bucket("k", amount: 7, capacity: 600)
        #expect(small.capacity == 600 && small.amount == 7 && small.refillPerSecond == 10 && small.ttlSeconds == 120)

        let counter = CounterOp.counter("c", amount: huge, limit: Int.max, window: Int.max)
        #expect(counter.limit == CounterBounds.maxLimit)
        #expect(counter.amount == CounterBounds.maxAmount)
        #expect(counter.ttlSeconds == CounterBounds.maxTTLSeconds)
        #expect(CounterOp.counter("c", amount: 1, limit: nil, window: 0).ttlSeconds == 1)
        #expect(CounterOp.counter("c", amount: 1, limit: nil, window: 60).limit == nil)

        #expect(CounterBounds.product(Int.max / 2, 4) == CounterBounds.maxLimit)
        #expect(CounterBounds.product(10, 4) == 40)
    }

    @Test func aPlanBeyondTheCacheRangeIsAdmittedOnTheSharedStore() async throws {
        let auth = try await TenancyTest.startAuth()
        let cache = try await ServiceHost.start(CacheService.self, environment: TenancyTest.environment())
        let account = try await TenancyTest.signUp(auth, name: "Whale")
        // 5×10^12 µ$ a minute, 10^16 a day, and a concurrency (× 4 per job) beyond the counter limit range.
        try await TenancyTest.setPlan(
            auth, tenant: account.tenant, name: "whale", requestsPerMinute: 2_000_000_000_000, tokensPerMinute: 3_000_000_000_000,
            costPerMinute: 5_000_000_000_000, budgetPerDay: 10_000_000_000_000_000, concurrentJobs: Int.max / 4)
        let tenancy = try await Tenancy.make(
            TenancyTest.context(["AUTH_URL": auth.baseURL, "CACHE_URL": cache.baseURL, "GATEWAY_LIMITS_ON_STORE_FAILURE": "closed"]),
            localModels: TenancyTest.localModels())
        let hooks = try #require(tenancy.hooks as? TenancyHooks)
        let keys = LimitKeys(tenant: account.tenant, epochDay: Int(Date().timeIntervalSince1970 / 86_400))

        for _ in 0..<3 {
            let ticket = try await hooks.admit(TenancyTest.call(tenant: account.tenant, promptTokens: 100, maxTokens: 100, reserve: 1_000))
            await ticket.finish(TenancyTest.outcome(prompt: 100, completion: 50, cost: 500))
        }
        await hooks.pending.drain(timeout: .seconds(5))
        // The buckets live in the cache with the clamped capacity.
        let cost = try await TenancyTest.internalCall(.get, cache.baseURL + "/internal/v1/counters/\(keys.cost)")
        #expect(cost.status == 200, "\(cost.text)")
        #expect(cost.json?["capacity"]?.doubleValue == Double(CounterBounds.maxAmount))
        let requests = try await TenancyTest.internalCall(.get, cache.baseURL + "/internal/v1/counters/\(keys.requests)")
        #expect(requests.json?["capacity"]?.doubleValue == Double(CounterBounds.maxAmount))
        let day = try await TenancyTest.internalCall(.get, cache.baseURL + "/internal/v1/counters/\(keys.day)")
        #expect(day.json?["value"]?.doubleValue == 1_500)
        let metrics = TenancyTest.renderedMetrics(tenancy)
        #expect(metrics.contains("gateway_limits_degraded 0"))
        #expect(metrics.contains("gateway_limit_store_errors_total 0"))
        for step in tenancy.onShutdown { await step() }
        await cache.shutdown()
        await auth.shutdown()
    }

    @Test func aRefusedRequestIsABugNotAnOutage() async throws {
        let refusing = ScriptedCounterStore(.init(status: 422, body: #"{"error":{"code":"invalid_field","message":"Field 'ops[2].capacity' must be 1–1000000000000."}}"#))
        let (limiter, logs, registry) = try limiter(refusing)
        for _ in 0..<2 {
            let reservation = try await limiter.admit(TenancyTest.call(tenant: "t-refused", plan: "pro"))
            #expect(reservation?.store == .local)
        }
        // Asked every time (no back-off as for an outage), logged as an error, not degraded.
        #expect(refusing.calls == 2)
        let errors = logs.lines.filter { $0.contains("\"level\":\"error\"") && $0.contains("gateway bug") }
        #expect(errors.count == 2)
        #expect(errors.first?.contains("ops[2].capacity") == true)
        #expect(!logs.lines.contains { $0.contains("counter store unreachable") })
        let metrics = registry.render()
        #expect(metrics.contains("gateway_limits_degraded 0"))
        #expect(metrics.contains("gateway_limit_store_errors_total 2"))
    }

    @Test func anUnreachableStoreIsStillAnOutage() async throws {
        let down = ScriptedCounterStore(.init(status: 503, body: "{}"))
        let (limiter, logs, registry) = try limiter(down)
        for _ in 0..<2 {
            let reservation = try await limiter.admit(TenancyTest.call(tenant: "t-down", plan: "pro"))
            #expect(reservation?.store == .local)
        }
        // One attempt, then a second of back-off; degraded; a warning, no bug report.
        #expect(down.calls == 1)
        #expect(logs.lines.contains { $0.contains("counter store unreachable") })
        #expect(!logs.lines.contains { $0.contains("gateway bug") })
        #expect(registry.render().contains("gateway_limits_degraded 1"))
    }

    private func limiter(_ store: ScriptedCounterStore) throws -> (TenantLimiter, InMemoryLogSink, MetricsRegistry) {
        let logs = InMemoryLogSink()
        let logger = Logger(service: "gw-test", sink: logs)
        let registry = MetricsRegistry(includeProcessMetrics: false)
        let limiter = TenantLimiter(
            remote: store, policy: .open, plans: PlanDirectory(auth: nil, ttl: .seconds(30), logger: logger), concurrencyPerJob: 4,
            metrics: try TenancyMetrics(registry), logger: logger)
        return (limiter, logs, registry)
    }
}

/// A counter store that answers every apply with one HTTP error, counting the calls.
private final class ScriptedCounterStore: CounterStore {
    let error: InternalServiceClient.StatusError
    private let count = Mutex(0)
    init(_ error: InternalServiceClient.StatusError) { self.error = error }
    var calls: Int { count.withLock { $0 } }

    func apply(_ ops: [CounterOp]) async throws -> CounterApplyResult {
        count.withLock { $0 += 1 }
        throw error
    }
}
