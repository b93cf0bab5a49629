import COpenBLAS
import Foundation

/// A loaded sentence-embedding model: tokenizer, encoder and a batcher for concurrent callers.
///
/// ```swift
/// let model = try EmbeddingModel.load(precision: .int8)
/// let vectors = try await model.embed(["a cat", "a kitten"])   // 384 floats each, unit length
/// ```
public final class EmbeddingModel: Sendable {
    public let directory: String
    public let tokenizer: WordPieceTokenizer
    public let encoder: BertModel
    public let batcher: EmbeddingBatcher
    /// Most texts one `embed` call accepts.
    public static let maxTextsPerCall = 2048

    /// Output dimension (384 for all-MiniLM-L6-v2).
    public var dimensions: Int { encoder.config.hiddenSize }
    public var precision: EmbeddingPrecision { encoder.precision }

    /// Loads `model.safetensors`, `config.json` and `vocab.txt` from `directory` (default:
    /// `ModelDirectory.resolve()`), quantizing to int8 when asked.
    public static func load(
        directory: String? = nil, precision: EmbeddingPrecision = .fp32, batching: BatchingOptions = BatchingOptions(), maxSequenceLength: Int = 256
    ) throws(EmbeddingError) -> EmbeddingModel {
        let dir: String
        if let directory { dir = directory } else { dir = try ModelDirectory.resolve() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .modelDirectoryNotFound("\(dir) does not exist")
        }
        for file in ModelDirectory.requiredFiles where !FileManager.default.fileExists(atPath: dir + "/" + file) {
            throw .missingFile(dir + "/" + file)
        }
        let config = try BertConfig(contentsOf: dir + "/config.json")
        let tokenizer = try WordPieceTokenizer(vocabularyFile: dir + "/vocab.txt", maxLength: min(maxSequenceLength, config.maxPositionEmbeddings))
        guard tokenizer.vocabulary.count <= config.vocabSize else {
            throw .invalidVocabulary("vocab.txt has \(tokenizer.vocabulary.count) tokens, config.json vocab_size is \(config.vocabSize)")
        }
        let encoder = try BertModel(config: config, weights: try SafetensorsFile(contentsOf: dir + "/model.safetensors"), precision: precision)
        return EmbeddingModel(directory: dir, tokenizer: tokenizer, encoder: encoder, batching: batching)
    }

    init(directory: String, tokenizer: WordPieceTokenizer, encoder: BertModel, batching: BatchingOptions) {
        OpenBLASThreads.configure()
        self.directory = directory
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.batcher = EmbeddingBatcher(options: batching, tokenizer: tokenizer, encoder: encoder)
    }

    /// Embeds `texts` through the batcher (concurrent calls share forward passes).
    public func embed(_ texts: [String]) async throws(EmbeddingError) -> [[Float]] {
        guard texts.count <= Self.maxTextsPerCall else {
            throw .invalidInput("at most \(Self.maxTextsPerCall) texts per call, got \(texts.count)")
        }
        return await batcher.embed(texts)
    }

    /// Embeds `texts` as one forward pass on the calling thread (blocking; for benchmarks and tools).
    public func embedSynchronously(_ texts: [String]) -> [[Float]] {
        encoder.embed(tokenizer.encodeBatch(texts))
    }

    /// Number of real tokens (with `[CLS]`/`[SEP]`) `texts` encode to, for usage accounting.
    public func tokenCount(_ texts: [String]) -> Int {
        texts.reduce(0) { $0 + tokenizer.encode($1).count }
    }
}

/// OpenBLAS thread count: one per core, set once. Our batcher runs one forward pass at a time
/// on its own thread, so inside a pass the only parallelism is OpenBLAS's pool (fp32 products,
/// attention) or, for the int8 layers, a two-way `concurrentPerform` split of large products;
/// the two never run at the same time, so nothing is oversubscribed.
enum OpenBLASThreads {
    private static let once: Void = {
        let env = ProcessInfo.processInfo.environment
        if env["OPENBLAS_NUM_THREADS"] == nil && env["OMP_NUM_THREADS"] == nil {
            openblas_set_num_threads(Int32(max(1, ProcessInfo.processInfo.activeProcessorCount)))
        }
    }()
    static func configure() { _ = once }
}
