import Foundation

/// A BERT encoder with sentence-transformers' mean pooling and L2 normalisation
/// (all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads).
///
/// The forward pass packs the real tokens of every sequence into one `[tokens, hidden]` matrix
/// (no padding rows), so each linear layer is one product over the whole batch (OpenBLAS sgemm
/// for fp32, the int8 kernel of `QuantizedLinear` for int8). Attention (`Attention`, fp32 in both
/// modes) runs per sequence over that sequence's own keys, which is exactly what the attention
/// mask does in the reference (masked keys get zero weight) without computing padded rows.
public struct BertModel: Sendable {
    public let config: BertConfig
    public let precision: EmbeddingPrecision
    let wordEmbeddings: EmbeddingTable
    let positionEmbeddings: [Float]
    let tokenTypeEmbedding: [Float]
    let embeddingNorm: LayerNorm
    let layers: [BertLayer]

    /// Bytes of weights held in memory.
    public var weightBytes: Int {
        wordEmbeddings.byteCount + (positionEmbeddings.count + tokenTypeEmbedding.count) * 4
            + embeddingNorm.byteCount + layers.reduce(0) { $0 + $1.byteCount }
    }

    /// Loads weights from a parsed safetensors file, checking every shape against `config`.
    public init(config: BertConfig, weights: SafetensorsFile, precision: EmbeddingPrecision = .fp32) throws(EmbeddingError) {
        self.config = config
        self.precision = precision
        let h = config.hiddenSize
        // Some exports prefix every name with "bert."; accept both.
        let prefix = weights.tensors["embeddings.word_embeddings.weight"] == nil && weights.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func load(_ name: String, _ shape: [Int]) throws(EmbeddingError) -> [Float] {
            try weights.floats(prefix + name, shape: shape)
        }
        func linear(_ name: String, out: Int, input: Int) throws(EmbeddingError) -> DenseLinear {
            DenseLinear(weight: try load(name + ".weight", [out, input]), bias: try load(name + ".bias", [out]), inFeatures: input, outFeatures: out)
        }
        func norm(_ name: String) throws(EmbeddingError) -> LayerNorm {
            LayerNorm(gamma: try load(name + ".weight", [h]), beta: try load(name + ".bias", [h]), eps: config.layerNormEps)
        }
        func finish(_ layer: DenseLinear) -> any LinearLayer {
            precision == .int8 ? QuantizedLinear(quantizing: layer) : layer
        }
        // Read (and for int8, quantize) the 47 MB word-embedding table in chunks of rows.
        wordEmbeddings = try EmbeddingTable(rows: config.vocabSize, columns: h, quantize: precision == .int8) { rows throws(EmbeddingError) in
            try weights.floats(prefix + "embeddings.word_embeddings.weight", shape: [config.vocabSize, h], rows: rows)
        }
        positionEmbeddings = try load("embeddings.position_embeddings.weight", [config.maxPositionEmbeddings, h])
        // Single-segment input: every token has token type 0.
        tokenTypeEmbedding = Array(try load("embeddings.token_type_embeddings.weight", [config.typeVocabSize, h]).prefix(h))
        embeddingNorm = try norm("embeddings.LayerNorm")
        var layers: [BertLayer] = []
        for i in 0..<config.numHiddenLayers {
            let p = "encoder.layer.\(i)."
            let q = try linear(p + "attention.self.query", out: h, input: h)
            let k = try linear(p + "attention.self.key", out: h, input: h)
            let v = try linear(p + "attention.self.value", out: h, input: h)
            let qkv = DenseLinear(weight: q.weight + k.weight + v.weight, bias: q.bias + k.bias + v.bias, inFeatures: h, outFeatures: 3 * h)
            layers.append(
                BertLayer(
                    qkv: finish(qkv),
                    attentionOutput: finish(try linear(p + "attention.output.dense", out: h, input: h)),
                    attentionNorm: try norm(p + "attention.output.LayerNorm"),
                    intermediate: finish(try linear(p + "intermediate.dense", out: config.intermediateSize, input: h)),
                    output: finish(try linear(p + "output.dense", out: h, input: config.intermediateSize)),
                    outputNorm: try norm(p + "output.LayerNorm")))
        }
        self.layers = layers
    }

    /// Embeddings (L2-normalised, `hiddenSize` values each) for a tokenized batch.
    /// Rows whose mask is all zero get a zero vector.
    public func embed(_ batch: TokenizedBatch) -> [[Float]] {
        let h = config.hiddenSize
        let lengths = (0..<batch.ids.count).map { min(batch.length(of: $0), config.maxPositionEmbeddings) }
        var offsets = [Int](repeating: 0, count: lengths.count)
        var total = 0
        for (i, n) in lengths.enumerated() { offsets[i] = total; total += n }
        guard total > 0 else { return lengths.map { _ in [Float](repeating: 0, count: h) } }

        var hidden = [Float](repeating: 0, count: total * h)
        hidden.withUnsafeMutableBufferPointer { x in
            guard let xp = x.baseAddress else { return }
            for (s, n) in lengths.enumerated() {
                // The mask is a prefix of ones (right padding), so real tokens are ids[s][0..<n].
                for t in 0..<n {
                    let row = xp + (offsets[s] + t) * h
                    let id = Int(batch.ids[s][t])
                    wordEmbeddings.row(id >= 0 && id < config.vocabSize ? id : 0, into: row)
                    for j in 0..<h { row[j] += positionEmbeddings[t * h + j] + tokenTypeEmbedding[j] }
                }
            }
            embeddingNorm.apply(xp, rows: total)
        }
        var workspace = Workspace(tokens: total, config: config)
        for layer in layers { encode(layer, hidden: &hidden, lengths: lengths, offsets: offsets, workspace: &workspace) }
        return (0..<lengths.count).map { s in pool(hidden, offset: offsets[s], count: lengths[s]) }
    }

    /// Buffers one forward pass reuses across layers.
    struct Workspace {
        var qkv: [Float]
        var context: [Float]
        var projected: [Float]
        var intermediate: [Float]
        init(tokens: Int, config: BertConfig) {
            let h = config.hiddenSize
            qkv = [Float](repeating: 0, count: tokens * 3 * h)
            context = [Float](repeating: 0, count: tokens * h)
            projected = [Float](repeating: 0, count: tokens * h)
            intermediate = [Float](repeating: 0, count: tokens * config.intermediateSize)
        }
    }

    private func encode(_ layer: BertLayer, hidden: inout [Float], lengths: [Int], offsets: [Int], workspace w: inout Workspace) {
        let h = config.hiddenSize
        let heads = config.numAttentionHeads
        let d = config.headSize
        let total = hidden.count / h
        hidden.withUnsafeMutableBufferPointer { xb in
            w.qkv.withUnsafeMutableBufferPointer { qkvb in
            w.context.withUnsafeMutableBufferPointer { ctxb in
            w.projected.withUnsafeMutableBufferPointer { projb in
            w.intermediate.withUnsafeMutableBufferPointer { interb in
                guard let x = xb.baseAddress, let qkv = qkvb.baseAddress, let ctx = ctxb.baseAddress,
                    let proj = projb.baseAddress, let inter = interb.baseAddress
                else { return }
                layer.qkv.forward(x, rows: total, into: qkv, gelu: false)
                Attention(qkv: qkv, context: ctx, lengths: lengths, offsets: offsets, heads: heads, headSize: d).run()
                layer.attentionOutput.forward(ctx, rows: total, into: proj, gelu: false)
                layer.attentionNorm.apply(x, adding: proj, rows: total)
                layer.intermediate.forward(x, rows: total, into: inter, gelu: true)
                layer.output.forward(inter, rows: total, into: proj, gelu: false)
                layer.outputNorm.apply(x, adding: proj, rows: total)
            }}}}
        }
    }

    /// Mean over a sequence's tokens, then L2 normalisation.
    private func pool(_ hidden: [Float], offset: Int, count: Int) -> [Float] {
        let h = config.hiddenSize
        var out = [Float](repeating: 0, count: h)
        guard count > 0 else { return out }
        for t in 0..<count {
            let row = (offset + t) * h
            for j in 0..<h { out[j] += hidden[row + j] }
        }
        var norm: Float = 0
        for j in 0..<h { out[j] /= Float(count); norm += out[j] * out[j] }
        // sentence-transformers' Normalize clamps the norm at 1e-12.
        let inv = 1 / max(norm.squareRoot(), 1e-12)
        for j in 0..<h { out[j] *= inv }
        return out
    }
}
