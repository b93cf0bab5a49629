import BulkheadObservability
import Foundation
import Synchronization

/// Tenants' plans from auth (`GET /internal/tenants/{tenant}/plan`), cached for `ttl` so a plan
/// change is seen within that time while a busy tenant costs one call per TTL. When auth cannot
/// answer, the last known plan stays in use; with none, the built-in plan of the caller's plan name.
final class PlanDirectory: Sendable {
    private struct Entry { var plan: TenantPlan; var fetched: ContinuousClock.Instant }
    private struct Answer: Decodable { var plan: TenantPlan }

    private let auth: InternalServiceClient?
    private let ttl: Duration
    private let logger: Logger
    private let cache = Mutex<[String: Entry]>([:])
    private let maximumEntries = 50_000

    init(auth: InternalServiceClient?, ttl: Duration, logger: Logger) {
        self.auth = auth
        self.ttl = ttl
        self.logger = logger
    }

    /// The plan of `tenant`; `hint` is the plan name the caller's credential carries.
    func plan(tenant: String, hint: String) async -> TenantPlan {
        let now = ContinuousClock.now
        let cached = cache.withLock { $0[tenant] }
        if let cached, now - cached.fetched < ttl { return cached.plan }
        guard let auth else { return TenantPlan.builtIn(hint) }
        do {
            let answer = try await auth.json(
                Answer.self, .get, "/internal/tenants/\(InternalServiceClient.segment(tenant))/plan", timeout: .seconds(2))
            let limit = maximumEntries
            cache.withLock { c in
                if c.count >= limit { c.removeAll(keepingCapacity: true) }
                c[tenant] = Entry(plan: answer.plan, fetched: ContinuousClock.now)
            }
            return answer.plan
        } catch {
            logger.warning("tenant plan unavailable", ["tenant": .string(tenant), "error": .string(String(describing: error).prefix(200).description)])
            if let cached {
                // Keep the stale plan, and do not ask again for a few seconds.
                cache.withLock { $0[tenant] = Entry(plan: cached.plan, fetched: now - ttl + .seconds(5)) }
                return cached.plan
            }
            return TenantPlan.builtIn(hint)
        }
    }

    /// Forgets cached plans (tests change plans and want them seen at once).
    func invalidate() { cache.withLock { $0.removeAll() } }
}
