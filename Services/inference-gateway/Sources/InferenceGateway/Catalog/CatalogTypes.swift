/// Which wire format a deployment speaks.
public enum ProviderKind: String, Sendable, CaseIterable {
    /// Any OpenAI-compatible server: OpenAI, vLLM, TGI, Ollama, llama.cpp server.
    case openai
    /// Anthropic's Messages API.
    case anthropic
    /// Models served in this process (the local embedding models).
    case local
    /// A chat model simulator: text at a configured time-to-first-token and rate.
    case simulator
}

/// How a model picks among its deployments.
public enum RoutingStrategy: String, Sendable, CaseIterable {
    /// Random, proportional to each deployment's `weight`.
    case weighted
    /// The deployment with the fewest requests in flight.
    case leastOutstanding = "least_outstanding"
    /// The deployment with the lowest observed latency (time to first token for streams).
    case lowestLatency = "lowest_latency"
}

/// What a model answers.
public enum ModelKind: String, Sendable {
    case chat, embeddings
}

/// Prices in USD per million tokens, which is also micro-dollars per token.
public struct Prices: Sendable, Equatable {
    public var input: Double
    public var output: Double
    public var cachedInput: Double

    public init(input: Double = 0, output: Double = 0, cachedInput: Double? = nil) {
        self.input = input; self.output = output; self.cachedInput = cachedInput ?? input
    }
}

/// Per-deployment timeouts.
public struct DeploymentTimeouts: Sendable, Equatable {
    /// Resolving, TCP connect and TLS handshake.
    public var connect: Duration = .seconds(5)
    /// From sending a streamed request to its first token (before it, a stream may fail over).
    public var firstToken: Duration = .seconds(30)
    /// The whole attempt, body included.
    public var total: Duration = .seconds(300)
    public init() {}
}

/// When a deployment's circuit opens and for how long.
public struct CircuitSettings: Sendable, Equatable {
    /// Consecutive failures (5xx, connect errors, timeouts) that open the circuit.
    public var failureThreshold: Int = 5
    /// How long the circuit stays open before one probe is let through (half-open).
    public var cooldown: Duration = .seconds(30)
    public init() {}
}

/// The simulator's behaviour.
public struct SimulatorSettings: Sendable, Equatable {
    /// Delay before the first token.
    public var timeToFirstToken: Duration = .zero
    /// Output rate; 0 emits every token at once.
    public var tokensPerSecond: Double = 0
    /// Completion length when the request does not cap it lower.
    public var outputTokens: Int = 16
    /// Share of calls (0...1) answered with `failureStatus` instead, for failure drills.
    public var failureRate: Double = 0
    public var failureStatus: Int = 503
    public init() {}
}

/// One place a public model is served: a provider, an upstream model and its limits and prices.
public struct DeploymentConfig: Sendable, Equatable, CustomStringConvertible {
    /// Stable id (per-deployment state such as circuit breakers survives reloads by id).
    public var id: String
    /// The public model this deployment serves.
    public var model: String
    public var provider: ProviderKind
    public var upstreamModel: String
    /// e.g. `https://api.openai.com/v1` (openai), `https://api.anthropic.com` (anthropic).
    public var baseURL: String
    /// The environment variable the credential was read from (for display).
    public var apiKeyEnv: String?
    /// The credential, read at load. Never logged: `description` leaves it out.
    public var apiKey: String?
    public var region: String
    public var weight: Double
    /// Requests in flight at most (0: unlimited); a full deployment is skipped.
    public var maxConcurrency: Int
    /// Prompt plus completion tokens the upstream model accepts.
    public var contextWindow: Int
    /// Completion cap used when a request sets none.
    public var maxOutputTokens: Int
    public var prices: Prices
    public var timeouts: DeploymentTimeouts
    public var circuit: CircuitSettings
    public var simulator: SimulatorSettings

    public var description: String {
        "\(id) (\(provider.rawValue) \(upstreamModel) at \(baseURL.isEmpty ? "-" : baseURL), key \(apiKey == nil ? "none" : "***"))"
    }
}

/// A public model name and how it is served.
public struct ModelConfig: Sendable, Equatable {
    public var name: String
    public var kind: ModelKind
    public var strategy: RoutingStrategy
    /// Models tried, in order, when every deployment of this one failed or cannot fit the prompt.
    public var fallbacks: [String]
    /// Whether answers may come from / go to the semantic cache.
    public var cacheable: Bool
    /// `owned_by` in `/v1/models`.
    public var ownedBy: String
    public var deployments: [DeploymentConfig]
}

/// A validated catalog: public model names to deployments.
public struct Catalog: Sendable, Equatable {
    /// Models in file order.
    public var models: [ModelConfig]
    let index: [String: Int]

    public init(models: [ModelConfig]) {
        self.models = models
        var index: [String: Int] = [:]
        for (i, m) in models.enumerated() { index[m.name] = i }
        self.index = index
    }

    public func model(_ name: String) -> ModelConfig? { index[name].map { models[$0] } }
}
