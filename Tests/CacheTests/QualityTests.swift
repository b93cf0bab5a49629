import BulkheadEmbeddings
@testable import Cache
import Foundation
import Testing

/// The default similarity threshold, checked against the measurement it was chosen from
/// (`bench/results/cache-quality-*.md`, made by `bench/cache/quality`) with the int8 model the
/// gateway embeds cache texts with: on the hard negatives false hits stay under the stated bound,
/// paraphrases still hit often enough, and precision over all queries stays high.
@Suite struct QualityTests {
    /// Loaded once per test process (quantizing takes seconds in debug builds).
    actor Models {
        static let shared = Models()
        private var models: [EmbeddingPrecision: EmbeddingModel] = [:]
        func model(_ precision: EmbeddingPrecision) throws -> EmbeddingModel {
            if let m = models[precision] { return m }
            let m = try EmbeddingModel.load(directory: QualityData.modelDirectory(), precision: precision)
            models[precision] = m
            return m
        }
    }

    @Test func defaultThresholdKeepsHardNegativeFalseHitsLowAndParaphraseHitsHigh() async throws {
        let model = try await Models.shared.model(.int8)
        let pairs = Array(try QualityData.pairs().prefix(Int(ProcessInfo.processInfo.environment["CACHE_QUALITY_PAIRS"] ?? "") ?? 999))
        let hardNegatives = try QualityData.hardNegatives()
        #expect(hardNegatives.count >= 50)
        let measurement = try await QualityMeasurement.measure(model: model, pairs: pairs, hardNegatives: hardNegatives)
        let t = VectorIndexConfiguration.defaultSimilarityThreshold
        let row = measurement.row(threshold: t)
        print(
            "QualityTests: threshold \(t) over \(pairs.count) pairs, \(hardNegatives.count) hard negatives: paraphrase hits \(row.paraphraseHitRate), "
                + "wrong \(row.paraphraseWrongHitRate), unrelated false hits \(row.unrelatedFalseHitRate), hard-negative false hits \(row.hardNegativeFalseHitRate), precision \(row.precision)")
        #expect(row.hardNegativeFalseHitRate <= QualityBounds.maxHardNegativeFalseHits)
        #expect(row.unrelatedFalseHitRate <= QualityBounds.maxUnrelatedFalseHits)
        #expect(row.paraphraseHitRate >= QualityBounds.minParaphraseHits)
        #expect(row.precision >= QualityBounds.minPrecision)
        // Different entities and opposite actions are told apart at the default; word-order swaps
        // ("Celsius to Fahrenheit" / "Fahrenheit to Celsius") are not: the model cannot, at any
        // useful threshold (see the table), so they are measured, not bounded, here.
        let separable = zip(measurement.hardNegativeKinds, measurement.hardNegativeBest).filter { ["entity", "antonym"].contains($0.0) }
        let separableFalse = Double(separable.filter { $0.1 >= t }.count) / Double(max(separable.count, 1))
        #expect(separableFalse <= QualityBounds.maxSeparableHardNegativeFalseHits, "entity/antonym false hits \(separableFalse)")
        // The threshold matters: far below it the hard negatives hit far more often.
        #expect(measurement.row(threshold: 0.7).hardNegativeFalseHitRate > row.hardNegativeFalseHitRate)
    }
}

/// The bounds the default threshold was chosen against (see the quality table).
/// Chosen rule: the lowest threshold whose false hits on unrelated queries are about 1 % and whose
/// precision is highest, since a wrong cached answer costs more than a miss (which only costs
/// inference). At 0.94 (int8, 999 pairs): paraphrase hits 0.481, unrelated false hits 0.011,
/// hard-negative false hits 0.231 (0 on entity and antonym pairs), precision 0.906.
enum QualityBounds {
    static let maxHardNegativeFalseHits = 0.25
    static let maxSeparableHardNegativeFalseHits = 0.02
    static let maxUnrelatedFalseHits = 0.02
    static let minParaphraseHits = 0.45
    static let minPrecision = 0.88
}
