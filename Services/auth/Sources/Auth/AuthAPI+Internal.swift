import BulkheadAuth
import BulkheadHTTP

/// `/internal/*`: guarded by `BULKHEAD_INTERNAL_TOKEN` (the scaffolding's middleware answers 401
/// without it). API-key introspection, plans and tenants' plans, signing-key rotation.
extension AuthAPI {
    struct IntrospectBody: RequestBody {
        static let fields: Set<String> = ["key"]
        var key: String
    }

    struct SetPlanBody: RequestBody {
        static let fields: Set<String> = ["plan"]
        var plan: String
    }

    struct PlanBody: RequestBody {
        static let fields: Set<String> = [
            "ai_budget_micro_usd_per_day", "ai_cost_micro_usd_per_minute", "requests_per_minute", "tokens_per_minute", "max_concurrent_jobs",
        ]
        var aiBudgetMicroUsdPerDay: Int64
        var aiCostMicroUsdPerMinute: Int64
        var requestsPerMinute: Int64
        var tokensPerMinute: Int64
        var maxConcurrentJobs: Int64
    }

    struct TenantPlan: Encodable {
        var tenant: String
        var plan: PlanLimits
    }

    struct PlanList: Encodable { var plans: [PlanLimits] }
    struct RotateAnswer: Encodable { var kid: String }

    func registerInternalRoutes(into router: inout Router) {
        router.post("/internal/introspect", bodyLimit: 4096) { [self] request, _ in
            try JSONBody.response(introspect(key: JSONBody.decode(IntrospectBody.self, from: request).key))
        }
        router.get("/internal/tenants/{tenant}/plan") { [self] _, context in
            try JSONBody.response(tenantPlan(context.parameter("tenant")))
        }
        router.put("/internal/tenants/{tenant}/plan", bodyLimit: 4096) { [self] request, context in
            let tenant = try context.parameter("tenant")
            let plan = try JSONBody.decode(SetPlanBody.self, from: request).plan
            do {
                guard try store.setPlan(tenantID: tenant, plan: plan) else { throw HTTPError.notFound("No such tenant.") }
            } catch AuthStoreError.unknownPlan {
                throw JSONBody.invalid("unknown_plan", "Field 'plan' names no plan.")
            }
            logger.info("tenant plan changed", ["tenant": .string(tenant), "plan": .string(plan)])
            return try JSONBody.response(tenantPlan(tenant))
        }
        router.get("/internal/plans") { [self] _, _ in try JSONBody.response(PlanList(plans: store.plans())) }
        router.put("/internal/plans/{name}", bodyLimit: 4096) { [self] request, context in
            let name = try context.parameter("name")
            guard name.utf8.count <= 64, !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d })
            else { throw HTTPError.badRequest("Plan names are 1 to 64 characters of a-z 0-9 -.", code: "invalid_plan_name") }
            let b = try JSONBody.decode(PlanBody.self, from: request)
            for (field, value) in [("ai_budget_micro_usd_per_day", b.aiBudgetMicroUsdPerDay), ("ai_cost_micro_usd_per_minute", b.aiCostMicroUsdPerMinute),
                                   ("requests_per_minute", b.requestsPerMinute), ("tokens_per_minute", b.tokensPerMinute),
                                   ("max_concurrent_jobs", b.maxConcurrentJobs)] where value < 0 {
                throw JSONBody.invalid("invalid_field", "Field '\(field)' must not be negative.")
            }
            let plan = PlanLimits(name: name, aiBudgetMicroUsdPerDay: b.aiBudgetMicroUsdPerDay, aiCostMicroUsdPerMinute: b.aiCostMicroUsdPerMinute,
                requestsPerMinute: b.requestsPerMinute, tokensPerMinute: b.tokensPerMinute, maxConcurrentJobs: b.maxConcurrentJobs)
            try store.upsert(plan: plan, now: Self.now())
            return try JSONBody.response(plan)
        }
        router.post("/internal/keys/rotate") { [self] _, _ in
            let kid = try keyRing.rotate(now: Self.now())
            logger.info("signing key rotated", ["kid": .string(kid)])
            return try JSONBody.response(RotateAnswer(kid: kid))
        }
    }

    private func tenantPlan(_ tenantID: String) throws -> TenantPlan {
        guard let tenant = try store.tenant(id: tenantID) else { throw HTTPError.notFound("No such tenant.") }
        guard let plan = try store.plan(named: tenant.plan) else { throw HTTPError.notFound("The tenant's plan is not defined.") }
        return TenantPlan(tenant: tenant.id, plan: plan)
    }
}
