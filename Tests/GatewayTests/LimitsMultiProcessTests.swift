import BulkheadService
import BulkheadTesting
import Cache
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Limits hold across replicas: two real `inference-gateway` processes share one cache service's
/// counters, so a tenant's plan limit holds in total, not per process.
@Suite("Limits: two gateway processes", .serialized)
struct LimitsMultiProcessTests {
    @Test(.timeLimit(.minutes(1)))
    func aTenantsRequestLimitHoldsInTotalAcrossTwoGateways() async throws {
        let path = TestBinaries.directory + "/inference-gateway"
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run `swift build` first (scripts/test does)")
        let auth = try await TenancyTest.startAuth()
        let cache = try await ServiceHost.start(CacheService.self, environment: TenancyTest.environment())
        let account = try await TenancyTest.signUp(auth, name: "Replicated")
        try await TenancyTest.setPlan(auth, tenant: account.tenant, name: "ten-per-minute", requestsPerMinute: 10)

        var gateways: [(TestProcess, Int)] = []
        for _ in 0..<2 {
            let port = TestBinaries.freePort()
            let process = try TestProcess(path: path, environment: [
                "HOST": "127.0.0.1", "PORT": String(port), "BULKHEAD_INTERNAL_TOKEN": TenancyTest.internalToken,
                "DATA_DIR": NSTemporaryDirectory() + "gw-replica-\(UUID().uuidString)", "LOOP_THREADS": "1", "LOG_LEVEL": "warning",
                "AUTH_URL": auth.baseURL, "CACHE_URL": cache.baseURL, "GATEWAY_LIMITS_ON_STORE_FAILURE": "closed",
            ])
            gateways.append((process, port))
        }
        for (_, port) in gateways {
            let up = await TenancyTest.eventually(timeout: .seconds(20)) {
                (try? await TenancyTest.call(.get, "http://127.0.0.1:\(port)/readyz"))?.status == 200
            }
            #expect(up)
        }
        // 24 calls alternating between the replicas: exactly 10 pass in total.
        var ok = 0, limited = 0
        let started = ContinuousClock.now
        for i in 0..<24 {
            let port = gateways[i % 2].1
            let r = try await TenancyTest.call(
                .post, "http://127.0.0.1:\(port)/v1/chat/completions", bearer: account.apiKey,
                json: #"{"model":"simulator-fast","temperature":1,"messages":[{"role":"user","content":"call \#(i)"}]}"#)
            if r.status == 200 { ok += 1 } else if r.status == 429 {
                limited += 1
                #expect(r.json?["error"]?["code"]?.stringValue == "requests_per_minute")
                #expect(r.header("retry-after") != nil)
            } else {
                Issue.record("unexpected \(r.status): \(r.text)")
            }
        }
        // 10 at once, plus one per 6 s of refill if the run was slow: never 10 per replica.
        let elapsed = Double((ContinuousClock.now - started).components.seconds)
        #expect(ok >= 10 && Double(ok) <= 10 + elapsed / 6 && ok + limited == 24, "ok \(ok), limited \(limited) in \(elapsed) s")
        for (process, _) in gateways {
            process.signal(SIGTERM)
            #expect(await process.waitForExit(timeout: .seconds(10)) == 0)
        }
        await cache.shutdown()
        await auth.shutdown()
    }
}
