import BulkheadEmbeddings
import Foundation
import Testing

@Suite struct EmbeddingParityTests {
    @Test func fp32MatchesSentenceTransformers() async throws {
        let fixture = try ReferenceFixture.load()
        let model = try await SharedModels.shared.model(.fp32)
        let vectors = try await model.embed(fixture.sentences)
        #expect(vectors.count == fixture.embeddings.count)
        for (i, v) in vectors.enumerated() {
            #expect(v.count == 384)
            let c = cosine(v, fixture.embeddings[i])
            #expect(c >= 0.999, "sentence \(i) \(fixture.sentences[i].debugDescription): cosine \(c)")
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-4)
        }
    }

    @Test func int8StaysCloseToFp32AndUsesLessMemory() async throws {
        let fixture = try ReferenceFixture.load()
        let fp32 = try await SharedModels.shared.model(.fp32)
        let int8 = try await SharedModels.shared.model(.int8)
        let a = try await fp32.embed(fixture.sentences)
        let b = try await int8.embed(fixture.sentences)
        for i in a.indices {
            let c = cosine(a[i], b[i])
            #expect(c >= 0.99, "sentence \(i): int8 vs fp32 cosine \(c)")
        }
        #expect(int8.encoder.weightBytes * 3 < fp32.encoder.weightBytes)
    }

    /// Paraphrase pairs from GPTCache's mock data: each origin must be closer to its own
    /// paraphrase than to the other pairs' paraphrases (retrieval at rank 1).
    @Test(arguments: [EmbeddingPrecision.fp32, .int8])
    func paraphrasesRankAboveNonParaphrases(_ precision: EmbeddingPrecision) async throws {
        struct Pair: Decodable { var origin: String; var similar: String }
        let path = TestPaths.sharedData + "/gptcache_mock_pairs.json"
        let all = try JSONDecoder().decode([Pair].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(all.count >= 100)
        // A fixed spread over the file; small enough for a debug build.
        let pairs = stride(from: 0, to: all.count, by: all.count / 40).prefix(40).map { all[$0] }
        let model = try await SharedModels.shared.model(precision)
        let origins = try await model.embed(pairs.map(\.origin))
        let similars = try await model.embed(pairs.map(\.similar))
        var top1 = 0
        var positive: Float = 0, negative: Float = 0
        for i in pairs.indices {
            let own = cosine(origins[i], similars[i])
            positive += own
            var best = true
            for j in pairs.indices where j != i {
                let other = cosine(origins[i], similars[j])
                negative += other / Float(pairs.count - 1)
                if other >= own { best = false }
            }
            if best { top1 += 1 }
        }
        #expect(top1 * 100 >= pairs.count * 90, "\(precision): paraphrase ranked first for \(top1)/\(pairs.count)")
        #expect(positive / Float(pairs.count) > negative / Float(pairs.count) + 0.3)
    }
}
