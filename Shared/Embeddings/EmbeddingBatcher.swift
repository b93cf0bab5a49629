import Dispatch

/// How concurrent `embed` calls are grouped into forward passes.
public struct BatchingOptions: Sendable {
    /// How long the first request of an idle batcher waits for company.
    public var window: Duration
    /// Most texts per forward pass.
    public var maxBatchSize: Int
    public init(window: Duration = .milliseconds(2), maxBatchSize: Int = 32) {
        self.window = window
        self.maxBatchSize = max(1, maxBatchSize)
    }
}

/// Groups concurrent requests into forward passes of up to `maxBatchSize` texts.
///
/// The first request on an idle batcher waits `window` for others; requests that arrive while a
/// pass runs are taken together as soon as it ends. Passes run one at a time on a dedicated
/// thread (never on the cooperative pool, which they would block for milliseconds), so
/// OpenBLAS's threads get the cores.
public actor EmbeddingBatcher {
    private struct Pending {
        var texts: [String]
        var continuation: CheckedContinuation<[[Float]], Never>
    }
    private let options: BatchingOptions
    private let tokenizer: WordPieceTokenizer
    private let encoder: BertModel
    private let queue = DispatchQueue(label: "bulkhead.embeddings.forward", qos: .userInitiated)
    private var pending: [Pending] = []
    private var draining = false
    /// Forward passes run so far and texts they embedded (for tests and metrics).
    public private(set) var passes = 0
    public private(set) var textsEmbedded = 0

    init(options: BatchingOptions, tokenizer: WordPieceTokenizer, encoder: BertModel) {
        self.options = options
        self.tokenizer = tokenizer
        self.encoder = encoder
    }

    /// Embeds `texts`, sharing forward passes with concurrent callers.
    public func embed(_ texts: [String]) async -> [[Float]] {
        if texts.isEmpty { return [] }
        return await withCheckedContinuation { continuation in
            pending.append(Pending(texts: texts, continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        if options.window > .zero { try? await Task.sleep(for: options.window) }
        while !pending.isEmpty {
            // Take whole requests up to the batch size; a request larger than the batch is split
            // by taking at most maxBatchSize of its texts at a time.
            var texts: [String] = []
            var owners: [(index: Int, count: Int)] = []
            var index = 0
            while index < pending.count, texts.count < options.maxBatchSize {
                let room = options.maxBatchSize - texts.count
                let already = completedCount(index)
                let remaining = pending[index].texts.count - already
                let take = min(room, remaining)
                texts.append(contentsOf: pending[index].texts[already..<(already + take)])
                owners.append((index, take))
                if take < remaining { break }
                index += 1
            }
            let vectors = await run(texts)
            passes += 1
            textsEmbedded += texts.count
            var cursor = 0
            for owner in owners {
                partial[owner.index, default: []].append(contentsOf: vectors[cursor..<(cursor + owner.count)])
                cursor += owner.count
            }
            // Resume every request that is now complete (always a prefix of `pending`).
            var done = 0
            while done < pending.count, (partial[done]?.count ?? 0) == pending[done].texts.count {
                pending[done].continuation.resume(returning: partial[done] ?? [])
                done += 1
            }
            if done > 0 {
                pending.removeFirst(done)
                var shifted: [Int: [[Float]]] = [:]
                for (k, v) in partial where k >= done { shifted[k - done] = v }
                partial = shifted
            }
        }
        draining = false
    }

    /// Vectors already computed for pending request `index` (when it was split across passes).
    private var partial: [Int: [[Float]]] = [:]
    private func completedCount(_ index: Int) -> Int { partial[index]?.count ?? 0 }

    private func run(_ texts: [String]) async -> [[Float]] {
        let tokenizer = tokenizer
        let encoder = encoder
        return await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: encoder.embed(tokenizer.encodeBatch(texts))) }
        }
    }
}
