/// Token ids for several texts, padded to the longest with `[PAD]`, with attention masks.
public struct TokenizedBatch: Sendable, Equatable {
    /// `ids[i]` has `sequenceLength` entries: `[CLS] … [SEP]` then padding.
    public var ids: [[Int32]]
    /// `attentionMask[i][j]` is 1 for real tokens, 0 for padding.
    public var attentionMask: [[Int32]]
    /// Length of every row (the longest sequence in the batch).
    public var sequenceLength: Int

    /// Number of real (unpadded) tokens in row `i`.
    public func length(of i: Int) -> Int { attentionMask[i].reduce(0) { $0 + Int($1) } }
    /// Real tokens over all rows (what `usage.prompt_tokens` reports).
    public var tokenCount: Int { (0..<ids.count).reduce(0) { $0 + length(of: $1) } }
}
