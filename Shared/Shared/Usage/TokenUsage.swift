/// Tokens of one AI call, OpenAI's field names.
public struct TokenUsage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    /// Prompt tokens the provider served from its own prompt cache (priced as cached input).
    public var cachedPromptTokens: Int
    /// True when the provider reported no usage and the gateway counted the tokens itself.
    public var estimated: Bool

    public init(promptTokens: Int, completionTokens: Int, cachedPromptTokens: Int = 0, estimated: Bool = false) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = promptTokens + completionTokens
        self.cachedPromptTokens = cachedPromptTokens
        self.estimated = estimated
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        case cachedPromptTokens = "cached_prompt_tokens", estimated
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try c.decode(Int.self, forKey: .promptTokens)
        completionTokens = try c.decode(Int.self, forKey: .completionTokens)
        totalTokens = try c.decodeIfPresent(Int.self, forKey: .totalTokens) ?? promptTokens + completionTokens
        cachedPromptTokens = try c.decodeIfPresent(Int.self, forKey: .cachedPromptTokens) ?? 0
        estimated = try c.decodeIfPresent(Bool.self, forKey: .estimated) ?? false
    }
}
