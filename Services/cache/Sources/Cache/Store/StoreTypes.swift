/// What `PUT .../entries/{key}` asks the store to keep (validated by the HTTP layer).
struct PutInput: Sendable {
    var namespace: NamespaceID
    var key: String
    var vector: [Float]?
    var response: [UInt8]
    var usage: [UInt8]?
    var costMicroUSD: Int
    var ttlSeconds: Int?
}

/// The outcome of a store.
struct PutResult: Sendable {
    var created: Bool
    var bytes: Int
    var expiresAt: Int64
}

/// What `POST .../lookup` asks (a text query arrives here already embedded).
struct LookupInput: Sendable {
    var namespace: NamespaceID
    var key: String?
    var vector: [Float]?
    var threshold: Double
    var exactOnly: Bool
    /// False for the exact-key probe made before embedding a text query, so one lookup
    /// counts one miss, not two.
    var countMiss = true
}

/// The outcome of a lookup.
enum LookupOutcome: Sendable {
    case hit(kind: HitKind, similarity: Double, entry: CacheEntry)
    case miss(bestSimilarity: Double?)
}

/// How an entry was found.
enum HitKind: String, Sendable {
    case exact, semantic
}
