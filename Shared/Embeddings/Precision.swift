/// Weight precision of a loaded model.
public enum EmbeddingPrecision: String, Sendable, CaseIterable {
    /// Weights as shipped (fp32).
    case fp32
    /// Linear-layer and word-embedding weights quantized to int8 per row at load time.
    case int8
}
