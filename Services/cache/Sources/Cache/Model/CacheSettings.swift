import BulkheadObservability

/// The cache's settings, read once at start from the environment (documented in the README).
struct CacheSettings: Sendable {
    /// Entries one namespace may hold before its least recently used are evicted.
    var maxEntriesPerNamespace = 100_000
    /// Bytes (see `CacheEntry.size`) one namespace may hold.
    var maxBytesPerNamespace = 256 * 1024 * 1024
    /// Entries in all namespaces together.
    var maxEntries = 1_000_000
    /// Bytes in all namespaces together.
    var maxBytes = 2 * 1024 * 1024 * 1024
    /// Largest single entry (413 `entry_too_large` above).
    var maxEntryBytes = 1024 * 1024
    /// TTL of an entry stored without `ttl_seconds`.
    var defaultTTLSeconds = 86_400
    /// Longest TTL accepted; longer requests are shortened to it.
    var maxTTLSeconds = 30 * 86_400
    /// Cosine similarity a semantic hit needs when the lookup gives no `threshold`: the index
    /// engineer's measured default (`bench/results/cache-quality-*.md`), rounded to 3 decimals.
    var similarityThreshold = (Double(VectorIndexConfiguration.defaultSimilarityThreshold) * 1000).rounded() / 1000
    /// Entries at which a namespace's index switches from exact search to HNSW.
    var hnswThreshold = 20_000
    /// Largest namespace whose HNSW graph is built at once, inside the store that reaches the
    /// threshold (about 0.1 s at 512 entries of 384 dimensions); larger ones are built in the
    /// background in time-bounded slices (`CacheStore.maintainIndexes`), searching exactly meanwhile.
    var hnswSynchronousBuildLimit = 512
    /// Entries of a graph under construction that each store adds besides its own (the
    /// background maintenance does the rest, so a store during a build stays cheap).
    var hnswBuildStepPerInsert = 1
    /// Store time one background maintenance slice may take before queued requests run.
    var maintenanceSlice: Duration = .milliseconds(5)
    /// How often expired entries and idle counters are swept.
    var sweepInterval: Duration = .seconds(60)
    /// Longest vector accepted.
    var maxDimension = 4096
    /// Live counters and buckets at most (503 `counters_full` beyond).
    var maxCounters = 1_000_000
    /// `$GATEWAY_URL`, for text lookups through `/v1/embeddings`; nil disables them.
    var gatewayURL: String?
    /// Model used to embed `text`.
    var embeddingModel = "all-minilm-l6-v2-int8"

    init() {}

    /// Reads every setting, recording problems in `env` (reported together at start).
    init(environment env: Environment) {
        let d = CacheSettings()
        maxEntriesPerNamespace = env.int("CACHE_MAX_ENTRIES_PER_NAMESPACE", default: d.maxEntriesPerNamespace, range: 1...100_000_000)
        maxBytesPerNamespace = env.int("CACHE_MAX_BYTES_PER_NAMESPACE", default: d.maxBytesPerNamespace, range: 1024...(1 << 40))
        maxEntries = env.int("CACHE_MAX_ENTRIES", default: d.maxEntries, range: 1...100_000_000)
        maxBytes = env.int("CACHE_MAX_BYTES", default: d.maxBytes, range: 1024...(1 << 42))
        maxEntryBytes = env.int("CACHE_MAX_ENTRY_BYTES", default: d.maxEntryBytes, range: 256...(64 << 20))
        defaultTTLSeconds = Self.seconds(env.duration("CACHE_DEFAULT_TTL", default: .seconds(d.defaultTTLSeconds)))
        maxTTLSeconds = Self.seconds(env.duration("CACHE_MAX_TTL", default: .seconds(d.maxTTLSeconds)))
        similarityThreshold = env.double("CACHE_SIMILARITY_THRESHOLD", default: d.similarityThreshold, range: -1...1)
        hnswThreshold = env.int("CACHE_HNSW_THRESHOLD", default: d.hnswThreshold, range: 1...1_000_000_000)
        hnswSynchronousBuildLimit = env.int(
            "CACHE_HNSW_SYNC_BUILD_LIMIT", default: d.hnswSynchronousBuildLimit, range: 0...1_000_000_000)
        sweepInterval = env.duration("CACHE_SWEEP_INTERVAL", default: d.sweepInterval)
        maxCounters = env.int("CACHE_MAX_COUNTERS", default: d.maxCounters, range: 1...100_000_000)
        gatewayURL = env.url("GATEWAY_URL", schemes: ["http", "https"]).map { $0.absoluteString }
        embeddingModel = env.string("CACHE_EMBEDDING_MODEL", default: d.embeddingModel)

        if defaultTTLSeconds < 1 { env.recordProblem("CACHE_DEFAULT_TTL: must be at least 1s") }
        if maxTTLSeconds < defaultTTLSeconds { env.recordProblem("CACHE_MAX_TTL: must be at least CACHE_DEFAULT_TTL") }
        if sweepInterval < .milliseconds(10) { env.recordProblem("CACHE_SWEEP_INTERVAL: must be at least 10ms") }
        if maxEntriesPerNamespace > maxEntries {
            env.recordProblem("CACHE_MAX_ENTRIES_PER_NAMESPACE: must not exceed CACHE_MAX_ENTRIES (\(maxEntries))")
        }
        if maxBytesPerNamespace > maxBytes {
            env.recordProblem("CACHE_MAX_BYTES_PER_NAMESPACE: must not exceed CACHE_MAX_BYTES (\(maxBytes))")
        }
        if maxEntryBytes > maxBytesPerNamespace {
            env.recordProblem("CACHE_MAX_ENTRY_BYTES: must not exceed CACHE_MAX_BYTES_PER_NAMESPACE (\(maxBytesPerNamespace))")
        }
        if embeddingModel.isEmpty { env.recordProblem("CACHE_EMBEDDING_MODEL: must not be empty") }
    }

    static func seconds(_ d: Duration) -> Int {
        Int(d.components.seconds)
    }
}
