import BulkheadObservability
import Shared
import Synchronization

/// The gateway's use of the cache service: exact lookup by the call's key, then a semantic lookup
/// with the conversation embedded in-process, inside the caller's tenant and the call's namespace;
/// answers of successful calls are stored off the response path. A failure is a miss, never an error.
final class SemanticCache: Sendable {
    let client: CacheClient
    let localModels: LocalProvider
    let embeddingModel: String
    /// nil: the cache service's default threshold.
    let threshold: Double?
    let ttlSeconds: Int?
    let metrics: TenancyMetrics
    let logger: Logger
    /// Vectors computed for lookups, reused when the same call's answer is stored.
    private let vectors = Mutex<[String: [Float]]>([:])

    init(
        client: CacheClient, localModels: LocalProvider, embeddingModel: String, threshold: Double?, ttlSeconds: Int?,
        metrics: TenancyMetrics, logger: Logger
    ) {
        self.client = client; self.localModels = localModels; self.embeddingModel = embeddingModel
        self.threshold = threshold; self.ttlSeconds = ttlSeconds; self.metrics = metrics; self.logger = logger
    }

    /// The cache's tenant for a principal (services without a tenant share `_service`).
    static func tenant(of principal: Principal) -> String { principal.tenant.isEmpty ? "_service" : principal.tenant }

    func lookup(_ call: InferenceCall) async -> CachedAnswer? {
        let tenant = Self.tenant(of: call.caller.principal)
        guard CacheClient.isValidName(tenant), CacheClient.isValidName(call.cacheNamespace),
              CacheClient.isValidName(call.exactKey, maxLength: 256)
        else {
            metrics.cacheLookups.labels("error").inc()
            return nil
        }
        do {
            let exact = try await client.lookup(
                tenant: tenant, namespace: call.cacheNamespace, body: .init(key: call.exactKey, exactOnly: true))
            if exact.hit, let answer = Self.answer(exact, kind: "hit-exact") {
                metrics.cacheLookups.labels("hit_exact").inc()
                return answer
            }
            guard let vector = await embed(call.semanticText) else {
                metrics.cacheLookups.labels("error").inc()
                return nil
            }
            remember(vector, for: call)
            let near = try await client.lookup(
                tenant: tenant, namespace: call.cacheNamespace, body: .init(vector: vector, threshold: threshold))
            if near.hit, let answer = Self.answer(near, kind: near.kind == "exact" ? "hit-exact" : "hit-semantic") {
                metrics.cacheLookups.labels(answer.kind == "hit-exact" ? "hit_exact" : "hit_semantic").inc()
                return answer
            }
            metrics.cacheLookups.labels("miss").inc()
            return nil
        } catch {
            metrics.cacheLookups.labels("error").inc()
            logger.debug("cache lookup failed", ["error": .string(String(String(describing: error).prefix(200)))])
            return nil
        }
    }

    /// Stores a successful call's answer (with its vector, usage and cost) in the cache.
    func store(_ call: InferenceCall, outcome: InferenceOutcome) async {
        guard let response = outcome.response else { return }
        let tenant = Self.tenant(of: call.caller.principal)
        guard CacheClient.isValidName(tenant), CacheClient.isValidName(call.cacheNamespace),
              CacheClient.isValidName(call.exactKey, maxLength: 256)
        else { return }
        var vector = takeVector(for: call)
        if vector == nil { vector = await embed(call.semanticText) }
        do {
            try await client.store(
                tenant: tenant, namespace: call.cacheNamespace, key: call.exactKey,
                body: .init(vector: vector, response: response, usage: outcome.usage, costMicroUSD: outcome.costMicroUSD, ttlSeconds: ttlSeconds),
                timeout: .seconds(2))
        } catch {
            metrics.cacheStoreErrors.inc()
            logger.debug("cache store failed", ["error": .string(String(String(describing: error).prefix(200)))])
        }
    }

    /// Drops the vector remembered for a call that will not be stored.
    func forget(_ call: InferenceCall) { _ = takeVector(for: call) }

    private func embed(_ text: String) async -> [Float]? {
        guard !text.isEmpty, let entry = LocalProvider.entry(embeddingModel) else { return nil }
        do {
            let model = try await localModels.model(entry)
            return try await model.embed([text]).first
        } catch {
            logger.debug("cache embedding failed", ["error": .string(String(String(describing: error).prefix(200)))])
            return nil
        }
    }

    private static func memoKey(_ call: InferenceCall) -> String { call.caller.requestID + "|" + call.exactKey }

    private func remember(_ vector: [Float], for call: InferenceCall) {
        let key = Self.memoKey(call)
        vectors.withLock { v in
            // Bounded: calls that never finish must not grow this forever.
            if v.count >= 1024 { v.removeAll(keepingCapacity: true) }
            v[key] = vector
        }
    }

    private func takeVector(for call: InferenceCall) -> [Float]? {
        let key = Self.memoKey(call)
        return vectors.withLock { $0.removeValue(forKey: key) }
    }

    private static func answer(_ a: CacheClient.LookupAnswer, kind: String) -> CachedAnswer? {
        guard let response = a.response else { return nil }
        return CachedAnswer(kind: kind, similarity: a.similarity ?? 1, response: response, usage: a.usage, savedCostMicroUSD: a.costMicroUSD ?? 0)
    }
}
