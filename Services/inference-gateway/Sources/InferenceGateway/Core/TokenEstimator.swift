/// A cheap local token count (about four bytes of UTF-8 per token, as BPE tokenizers average on
/// English), used to reserve limits before a call and when a provider reports no usage.
enum TokenEstimator {
    /// Tokens in `text`: at least one per whitespace-separated word, about one per 4 bytes.
    static func count(_ text: String) -> Int {
        var bytes = 0
        var words = 0
        var inWord = false
        for b in text.utf8 {
            bytes += 1
            let space = b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D
            if !space && !inWord { words += 1 }
            inWord = !space
        }
        return max(words, (bytes + 3) / 4)
    }

    /// Prompt tokens of a chat: the text plus OpenAI's framing overhead (≈4 per message, 3 to prime).
    static func prompt(_ request: ChatRequest) -> Int {
        var total = 3
        for m in request.messages { total += 4 + count(ChatRequest.text(of: m["content"])) }
        return total
    }
}
