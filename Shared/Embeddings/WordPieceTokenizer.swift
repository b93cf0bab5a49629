import Foundation

/// BERT uncased WordPiece tokenizer: `BasicTokenizer` words, then greedy longest-match-first
/// subwords with the `##` continuation prefix, `[UNK]` for words that cannot be split (or longer
/// than 100 scalars), `[CLS] … [SEP]`, and truncation to `maxLength` tokens including the specials.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(vocabularyFile: dir + "/vocab.txt")
/// let batch = tokenizer.encodeBatch(["Hello, world!", "Grüße"])
/// ```
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: [String: Int32]
    public let maxLength: Int
    public let clsID: Int32
    public let sepID: Int32
    public let padID: Int32
    public let unkID: Int32
    /// Words longer than this many scalars become `[UNK]` (the reference's `max_input_chars_per_word`).
    static let maxCharactersPerWord = 100
    private let basic = BasicTokenizer()

    /// Loads `vocab.txt` (one token per line, id = line number).
    public init(vocabularyFile path: String, maxLength: Int = 256) throws(EmbeddingError) {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path) }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadableFile(path: path, reason: "\(error)")
        }
        var tokens = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if tokens.last == "" { tokens.removeLast() }
        try self.init(tokens: tokens, maxLength: maxLength)
    }

    /// Builds a tokenizer from tokens in id order.
    public init(tokens: [String], maxLength: Int = 256) throws(EmbeddingError) {
        guard maxLength >= 2 else { throw .invalidInput("maxLength must be at least 2") }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() where vocabulary[token] == nil { vocabulary[token] = Int32(i) }
        func special(_ name: String) throws(EmbeddingError) -> Int32 {
            guard let id = vocabulary[name] else { throw .invalidVocabulary("special token \(name) is missing") }
            return id
        }
        self.vocabulary = vocabulary
        self.maxLength = maxLength
        clsID = try special("[CLS]")
        sepID = try special("[SEP]")
        padID = try special("[PAD]")
        unkID = try special("[UNK]")
    }

    /// WordPiece ids of `text` without special tokens or truncation.
    public func wordPieces(_ text: String) -> [Int32] {
        var out: [Int32] = []
        for word in basic.split(text) { appendPieces(of: word, to: &out) }
        return out
    }

    private func appendPieces(of word: String, to out: inout [Int32]) {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= Self.maxCharactersPerWord else { out.append(unkID); return }
        var pieces: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int32?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = "##" + candidate }
                if let id = vocabulary[candidate] { found = id; break }
                end -= 1
            }
            guard let id = found else { out.append(unkID); return }
            pieces.append(id)
            start = end
        }
        out.append(contentsOf: pieces)
    }

    /// `[CLS] pieces [SEP]`, truncated to `maxLength` tokens.
    public func encode(_ text: String) -> [Int32] {
        let pieces = wordPieces(text)
        return [clsID] + pieces.prefix(maxLength - 2) + [sepID]
    }

    /// Encodes several texts, pads them to the longest and builds attention masks.
    public func encodeBatch(_ texts: [String]) -> TokenizedBatch {
        let encoded = texts.map(encode)
        let length = encoded.map(\.count).max() ?? 0
        return TokenizedBatch(
            ids: encoded.map { $0 + Array(repeating: padID, count: length - $0.count) },
            attentionMask: encoded.map { Array(repeating: 1, count: $0.count) + Array(repeating: 0, count: length - $0.count) },
            sequenceLength: length)
    }
}
