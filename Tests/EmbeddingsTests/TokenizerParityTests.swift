import BulkheadEmbeddings
import Testing

@Suite struct TokenizerParityTests {
    @Test func matchesReferenceTokenizerOnTrickyStrings() throws {
        let fixture = try ReferenceFixture.load()
        let tokenizer = try WordPieceTokenizer(vocabularyFile: try TestPaths.modelDirectory() + "/vocab.txt", maxLength: fixture.max_seq_length)
        #expect(fixture.tokenizer.count >= 15)
        for c in fixture.tokenizer {
            #expect(tokenizer.encode(c.text) == c.ids, "text: \(c.text.debugDescription)")
        }
        // The very long input really was truncated to 256 tokens.
        #expect(fixture.tokenizer.contains { $0.ids.count == 256 })
    }

    @Test func batchesArePaddedWithMasks() throws {
        let tokenizer = try WordPieceTokenizer(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "##s", ","], maxLength: 5)
        let batch = tokenizer.encodeBatch(["Hello, worlds", "hello", "xyz hello hello hello hello"])
        #expect(batch.ids == [[2, 4, 7, 5, 3], [2, 4, 3, 0, 0], [2, 1, 4, 4, 3]])
        #expect(batch.attentionMask == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
        #expect(batch.sequenceLength == 5)
        #expect(batch.tokenCount == 13)
        #expect(tokenizer.wordPieces("worlds") == [5, 6])
    }

    @Test func vocabularyWithoutSpecialTokensIsRejected() {
        #expect(throws: EmbeddingError.invalidVocabulary("special token [CLS] is missing")) {
            try WordPieceTokenizer(tokens: ["[PAD]", "[UNK]", "[SEP]"])
        }
    }
}
