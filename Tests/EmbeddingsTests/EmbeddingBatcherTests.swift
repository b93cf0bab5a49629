import BulkheadEmbeddings
import Testing

@Suite struct EmbeddingBatcherTests {
    @Test func concurrentRequestsShareForwardPassesAndKeepOrder() async throws {
        let model = try EmbeddingModel.load(
            directory: try TestPaths.modelDirectory(), batching: BatchingOptions(window: .seconds(1), maxBatchSize: 4))
        let texts = ["one cat", "two dogs", "three birds", "four fish", "five frogs", "six snakes"]
        let expected = model.embedSynchronously(texts)
        // A long window so every task below has surely arrived before the first pass (no timing race).
        // Six concurrent single-text requests plus one of three texts: at most 4 texts per pass.
        let results = try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
            for (i, t) in texts.enumerated() { group.addTask { (i, try await model.embed([t])) } }
            group.addTask { (-1, try await model.embed(Array(texts.prefix(3)))) }
            var out: [Int: [[Float]]] = [:]
            for try await (i, v) in group { out[i] = v }
            return out
        }
        for (i, _) in texts.enumerated() {
            let v = try #require(results[i]?.first)
            #expect(cosine(v, expected[i]) > 0.9999)
        }
        let triple = try #require(results[-1])
        #expect(triple.count == 3)
        for i in 0..<3 { #expect(cosine(triple[i], expected[i]) > 0.9999) }
        let passes = await model.batcher.passes
        let embedded = await model.batcher.textsEmbedded
        #expect(embedded == 9)
        // 9 texts with batches of at most 4 need 3 passes; without batching it would be 7.
        #expect(passes >= 3 && passes < 7, "passes: \(passes)")
    }

    @Test func tooManyTextsAreRejected() async throws {
        let model = try await SharedModels.shared.model(.fp32)
        await #expect(throws: EmbeddingError.self) { try await model.embed(Array(repeating: "x", count: EmbeddingModel.maxTextsPerCall + 1)) }
        #expect(try await model.embed([]).isEmpty)
    }
}
