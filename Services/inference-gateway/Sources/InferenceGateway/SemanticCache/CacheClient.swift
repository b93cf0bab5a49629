import Foundation
import Shared

/// The cache service's entry API (`/internal/v1/cache/{tenant}/{namespace}/...`) as the gateway
/// uses it: lookups under a tight deadline, stores off the response path.
struct CacheClient: Sendable {
    let service: InternalServiceClient
    /// Deadline of one lookup: past it the lookup is a miss (counted as `error`).
    let lookupTimeout: Duration

    struct LookupBody: Encodable {
        var key: String?
        var vector: [Float]?
        var threshold: Double?
        var exactOnly: Bool?
        enum CodingKeys: String, CodingKey { case key, vector, threshold, exactOnly = "exact_only" }
    }

    struct LookupAnswer: Decodable {
        var hit: Bool
        var kind: String?
        var similarity: Double?
        var response: JSONValue?
        var usage: TokenUsage?
        var costMicroUSD: Int64?
        enum CodingKeys: String, CodingKey { case hit, kind, similarity, response, usage, costMicroUSD = "cost_micro_usd" }
    }

    struct StoreBody: Encodable {
        var vector: [Float]?
        var response: JSONValue
        var usage: TokenUsage?
        var costMicroUSD: Int64
        var ttlSeconds: Int?
        enum CodingKeys: String, CodingKey { case vector, response, usage, costMicroUSD = "cost_micro_usd", ttlSeconds = "ttl_seconds" }
    }

    /// Names the cache accepts: tenant and namespace `[A-Za-z0-9._:-]{1,128}`, key up to 256.
    static func isValidName(_ s: String, maxLength: Int = 128) -> Bool {
        !s.isEmpty && s.utf8.count <= maxLength && s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x3A || b == 0x2D
        }
    }

    private func base(_ tenant: String, _ namespace: String) -> String {
        "/internal/v1/cache/\(InternalServiceClient.segment(tenant))/\(InternalServiceClient.segment(namespace))"
    }

    /// A lookup; `nil` answer for an unknown namespace (a miss). Throws on transport or 5xx.
    func lookup(tenant: String, namespace: String, body: LookupBody) async throws -> LookupAnswer {
        let bytes = try JSONEncoder().encode(body)
        let (status, answer) = try await service.send(.post, base(tenant, namespace) + "/lookup", body: Array(bytes), timeout: lookupTimeout)
        if status == 404 { return LookupAnswer(hit: false) }
        guard status == 200 else { throw InternalServiceClient.StatusError(status: status, body: String(decoding: answer.prefix(300), as: UTF8.self)) }
        return try JSONDecoder().decode(LookupAnswer.self, from: Data(answer))
    }

    /// Stores (or replaces) an entry.
    func store(tenant: String, namespace: String, key: String, body: StoreBody, timeout: Duration) async throws {
        let bytes = try JSONEncoder().encode(body)
        try await service.expectSuccess(.put, base(tenant, namespace) + "/entries/\(InternalServiceClient.segment(key))", body: Array(bytes), timeout: timeout)
    }
}

extension CacheClient.LookupAnswer {
    init(hit: Bool) { self.hit = hit }
}
