import Synchronization

/// Output tokens per model over a sliding window of whole seconds, for the
/// `gateway_output_tokens_per_second` gauge (a rate without PromQL).
final class TokenRateWindow: Sendable {
    private struct State {
        /// Per model: tokens of each of the last `seconds` seconds, indexed by second mod `seconds`.
        var slots: [String: [Int]] = [:]
        var slotSecond: [String: [Int]] = [:]
    }

    private let seconds: Int
    private let state = Mutex(State())
    private let clock: @Sendable () -> Int

    init(seconds: Int, clock: @escaping @Sendable () -> Int = { Int(LocalCounterStore.monotonicSeconds()) }) {
        self.seconds = seconds
        self.clock = clock
    }

    func add(_ tokens: Int, model: String) {
        guard tokens > 0 else { return }
        let now = clock()
        let n = seconds
        state.withLock { s in
            var slots = s.slots[model] ?? Array(repeating: 0, count: n)
            var stamps = s.slotSecond[model] ?? Array(repeating: -1, count: n)
            let i = now % n
            if stamps[i] != now { slots[i] = 0; stamps[i] = now }
            slots[i] += tokens
            s.slots[model] = slots
            s.slotSecond[model] = stamps
        }
    }

    /// Tokens per second of each model over the window.
    func rates() -> [String: Double] {
        let now = clock()
        let n = seconds
        return state.withLock { s in
            var out: [String: Double] = [:]
            for (model, slots) in s.slots {
                let stamps = s.slotSecond[model] ?? []
                var total = 0
                for i in 0..<n where i < stamps.count && stamps[i] > now - n { total += slots[i] }
                out[model] = Double(total) / Double(n)
            }
            return out
        }
    }
}
