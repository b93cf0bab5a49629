/// Tuning of a `VectorIndex`: when it switches from exact search to HNSW, and the HNSW graph's
/// parameters (Malkov & Yashunin). The defaults keep recall@1 ≥ 0.99 on 384-dimension sentence
/// embeddings (see `bench/results/cache-*.md`).
public struct VectorIndexConfiguration: Sendable, Equatable {
    /// Live entries at which the index builds an HNSW graph; below it every search is exact.
    /// The index returns to exact search when it shrinks below half of this (hysteresis, so a
    /// namespace hovering at the threshold does not rebuild its graph on every insert/remove).
    public var hnswThreshold: Int
    /// Neighbours per node on the upper layers (`2·m` on layer 0).
    public var m: Int
    /// Candidate list size while inserting (build quality vs build time).
    public var efConstruction: Int
    /// Candidate list size while searching (recall vs latency); raised to `k` when `k` is larger.
    public var efSearch: Int
    /// Largest namespace whose graph is built at once by the insert that reaches the threshold
    /// (about a second in release builds); larger ones build incrementally.
    public var synchronousBuildLimit: Int
    /// Entries added to a graph under construction per insert (and, by default, per `maintain()`
    /// budget unit): bounds the extra latency of an insert while a graph is built.
    public var buildStep: Int

    /// - Parameters:
    ///   - hnswThreshold: entries at which search becomes approximate (default 20 000).
    ///   - m: graph degree (default 16).
    ///   - efConstruction: build beam width (default 200).
    ///   - efSearch: search beam width (default 64).
    ///   - synchronousBuildLimit: build the graph at once up to this many entries (default 4096).
    ///   - buildStep: entries added to a graph under construction per insert (default 32).
    public init(
        hnswThreshold: Int = 20_000, m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64,
        synchronousBuildLimit: Int = 4096, buildStep: Int = 32
    ) {
        self.hnswThreshold = max(1, hnswThreshold)
        self.m = max(2, m)
        self.efConstruction = max(1, efConstruction)
        self.efSearch = max(1, efSearch)
        self.synchronousBuildLimit = max(0, synchronousBuildLimit)
        self.buildStep = max(1, buildStep)
    }
}

extension VectorIndexConfiguration {
    /// The cosine a semantic hit needs by default (`CACHE_SIMILARITY_THRESHOLD` overrides it,
    /// a request's `threshold` too), chosen from `bench/results/cache-quality-*.md`: measured
    /// with all-MiniLM-L6-v2 int8 on paraphrases, unrelated queries and hard negatives.
    public static let defaultSimilarityThreshold: Float = 0.94
}
