import Foundation

/// The fields of a BERT `config.json` the forward pass needs.
public struct BertConfig: Sendable, Equatable, Codable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var hiddenAct: String

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", hiddenAct = "hidden_act"
    }

    /// Size of one attention head.
    public var headSize: Int { hiddenSize / numAttentionHeads }

    /// Loads and validates `config.json`.
    public init(contentsOf path: String) throws(EmbeddingError) {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadableFile(path: path, reason: "\(error)")
        }
        do { self = try JSONDecoder().decode(BertConfig.self, from: data) } catch {
            throw .invalidConfig("\(path): \(error)")
        }
        try validate()
    }

    func validate() throws(EmbeddingError) {
        guard hiddenSize > 0, numAttentionHeads > 0, hiddenSize % numAttentionHeads == 0 else {
            throw .invalidConfig("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
        guard vocabSize > 0, numHiddenLayers > 0, intermediateSize > 0, maxPositionEmbeddings > 0, typeVocabSize > 0 else {
            throw .invalidConfig("sizes must be positive")
        }
        guard hiddenAct == "gelu" else { throw .invalidConfig("hidden_act \(hiddenAct) is not supported (only gelu)") }
    }
}
