import Shared

/// Cost of a call in micro-dollars: prices are USD per million tokens, which is µ$ per token.
/// `(prompt − cached) × input + cached × cached_input + completion × output`, rounded once to
/// the nearest micro-dollar.
enum CostCalculator {
    static func microUSD(_ usage: TokenUsage, prices: Prices) -> Int64 {
        let cached = min(max(0, usage.cachedPromptTokens), usage.promptTokens)
        let exact = Double(usage.promptTokens - cached) * prices.input + Double(cached) * prices.cachedInput
            + Double(usage.completionTokens) * prices.output
        return Int64(exact.rounded())
    }

    /// Worst case before the call: every prompt token uncached plus the whole completion cap.
    static func reserve(promptTokens: Int, maxCompletionTokens: Int, prices: Prices) -> Int64 {
        Int64((Double(promptTokens) * prices.input + Double(maxCompletionTokens) * prices.output).rounded(.up))
    }
}
