import BulkheadEmbeddings
import Foundation

/// The `local` provider: models that run inside this process (all-MiniLM-L6-v2, fp32 and int8).
///
/// Models load on first use, or at start with `LOCAL_MODELS_PRELOAD=true`. A missing model
/// directory is not fatal: the gateway still starts and the endpoint answers 503 naming the problem.
public actor LocalProvider {
    /// One model the provider serves.
    public struct ModelEntry: Sendable {
        public var id: String
        public var precision: EmbeddingPrecision
    }

    /// What `load` produced for a model.
    enum LoadState {
        case loading(Task<Result<EmbeddingModel, EmbeddingError>, Never>)
        case loaded(EmbeddingModel)
        case failed(EmbeddingError)
    }

    /// The models served, by id.
    public static let models: [ModelEntry] = [
        ModelEntry(id: "all-minilm-l6-v2", precision: .fp32),
        ModelEntry(id: "all-minilm-l6-v2-int8", precision: .int8),
    ]

    private let directory: String?
    private let batching: BatchingOptions
    private var states: [String: LoadState] = [:]

    /// - Parameters:
    ///   - directory: the model directory, or nil to resolve it (`BULKHEAD_EMBEDDING_MODEL_DIR`, pip package).
    public init(directory: String?, batching: BatchingOptions) {
        self.directory = directory
        self.batching = batching
    }

    /// The entry for `id`, or nil when this provider does not serve it.
    public static func entry(_ id: String) -> ModelEntry? { models.first { $0.id == id } }

    /// Whether `id` is loaded and ready to answer without loading.
    public func isLoaded(_ id: String) -> Bool {
        if case .loaded = states[id] { return true }
        return false
    }

    /// The loaded model for `entry`, loading it (once, shared by concurrent callers) if needed.
    /// A failed load is remembered so every request does not re-read 90 MB.
    public func model(_ entry: ModelEntry) async throws(EmbeddingError) -> EmbeddingModel {
        switch states[entry.id] {
        case .loaded(let m): return m
        case .failed(let e): throw e
        case .loading(let task): return try await task.value.get()
        case nil:
            let directory = directory
            let batching = batching
            let task = Task.detached(priority: .userInitiated) { () -> Result<EmbeddingModel, EmbeddingError> in
                do throws(EmbeddingError) {
                    let dir: String
                    if let directory { dir = directory } else { dir = try ModelDirectory.resolve() }
                    return .success(try EmbeddingModel.load(directory: dir, precision: entry.precision, batching: batching))
                } catch { return .failure(error) }
            }
            states[entry.id] = .loading(task)
            let result = await task.value
            switch result {
            case .success(let m): states[entry.id] = .loaded(m)
            case .failure(let e): states[entry.id] = .failed(e)
            }
            return try result.get()
        }
    }

    /// Loads every model (for `LOCAL_MODELS_PRELOAD`); returns the first problem, if any.
    public func preload() async -> EmbeddingError? {
        for entry in Self.models {
            do { _ = try await model(entry) } catch { return error }
        }
        return nil
    }

    /// nil when every model is loaded, else why not (for `/readyz` when preloading).
    public func readinessProblem() -> String? {
        for entry in Self.models {
            switch states[entry.id] {
            case .loaded: continue
            case .failed(let e): return "\(entry.id): \(e)"
            case .loading, nil: return "\(entry.id): loading"
            }
        }
        return nil
    }
}
