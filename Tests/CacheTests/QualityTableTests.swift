import BulkheadEmbeddings
@testable import Cache
import Foundation
import Testing

/// Not a test: the Swift half of `bench/cache/quality` (disabled unless `BULKHEAD_BENCH=1`).
/// Prints one `QUALITY {json}` line per model precision and threshold over the full data, and one
/// `QUALITYKIND {json}` line per hard-negative kind at each threshold.
@Suite struct QualityTableTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BULKHEAD_BENCH"] == "1"))
    func thresholdTable() async throws {
        let pairs = try QualityData.pairs()
        let hardNegatives = try QualityData.hardNegatives()
        for precision in [EmbeddingPrecision.int8, .fp32] {
            let model = try await QualityTests.Models.shared.model(precision)
            let m = try await QualityMeasurement.measure(model: model, pairs: pairs, hardNegatives: hardNegatives)
            for t in QualityMeasurement.thresholds + [VectorIndexConfiguration.defaultSimilarityThreshold] {
                let r = m.row(threshold: t)
                emit("QUALITY", [
                    "model": "all-minilm-l6-v2-\(precision.rawValue)", "threshold": Double(t),
                    "paraphrase_hit": r.paraphraseHitRate, "paraphrase_wrong_hit": r.paraphraseWrongHitRate,
                    "unrelated_false_hit": r.unrelatedFalseHitRate,
                    "unrelated_strict_false_hit": r.unrelatedStrictFalseHitRate, "hard_negative_false_hit": r.hardNegativeFalseHitRate,
                    "precision": r.precision, "pairs": pairs.count, "hard_negatives": hardNegatives.count,
                    "default": t == VectorIndexConfiguration.defaultSimilarityThreshold,
                ])
                for kind in Set(m.hardNegativeKinds).sorted() {
                    let sims = zip(m.hardNegativeKinds, m.hardNegativeBest).filter { $0.0 == kind }.map(\.1)
                    emit("QUALITYKIND", [
                        "model": "all-minilm-l6-v2-\(precision.rawValue)", "threshold": Double(t), "kind": kind,
                        "queries": sims.count, "false_hit": Double(sims.filter { $0 >= t }.count) / Double(sims.count),
                    ])
                }
            }
        }
    }

    func emit(_ tag: String, _ object: [String: Any]) {
        guard let json = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        print(tag + " " + String(decoding: json, as: UTF8.self))
    }
}
