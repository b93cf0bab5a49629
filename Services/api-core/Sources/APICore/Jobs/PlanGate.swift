import BulkheadHTTP
import BulkheadHTTPClient
import Foundation
import Synchronization

/// A tenant's plan limits from auth (`GET /internal/tenants/{t}/plan`), cached per tenant for
/// `ttl` so a submit costs no auth call in the steady state. When auth cannot be reached, a
/// stale entry is used; with none, the submit is refused with 503 `plan_unavailable`.
final class PlanGate: Sendable {
    /// The limits api-core enforces.
    struct Plan: Sendable, Decodable, Equatable {
        var name: String
        var aiBudgetMicroUsdPerDay: Int64
        var maxConcurrentJobs: Int
        enum CodingKeys: String, CodingKey {
            case name, aiBudgetMicroUsdPerDay = "ai_budget_micro_usd_per_day", maxConcurrentJobs = "max_concurrent_jobs"
        }
    }

    private struct Answer: Decodable { var plan: Plan }
    private struct Entry { var plan: Plan; var fetched: ContinuousClock.Instant }

    let authURL: String
    let internalToken: String
    let client: HTTPClient
    let ttl: Duration
    private let cache = Mutex<[String: Entry]>([:])

    init(authURL: String, internalToken: String, client: HTTPClient, ttl: Duration) {
        self.authURL = authURL
        self.internalToken = internalToken
        self.client = client
        self.ttl = ttl
    }

    func plan(tenant: String, traceparent: String?) async throws(HTTPError) -> Plan {
        let now = ContinuousClock.now
        let cached = cache.withLock { $0[tenant] }
        if let cached, now - cached.fetched < ttl { return cached.plan }
        do {
            let response = try await client.execute(
                HTTPClientRequest(
                    method: .get, url: "\(authURL)/internal/tenants/\(tenant)/plan", headers: ["Authorization": "Bearer \(internalToken)"],
                    traceparent: traceparent), timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 64 * 1024)
            guard response.status.code == 200 else { throw BrokerClient.Failure(description: "auth answered \(response.status.code)") }
            let plan = try JSONDecoder().decode(Answer.self, from: Data(body)).plan
            cache.withLock { c in
                if c.count > 100_000 { c.removeAll() }
                c[tenant] = Entry(plan: plan, fetched: now)
            }
            return plan
        } catch {
            if let cached { return cached.plan }
            throw HTTPError(.serviceUnavailable, code: "plan_unavailable", message: "The tenant's plan could not be read; retry shortly.",
                headers: ["Retry-After": "2"])
        }
    }
}
