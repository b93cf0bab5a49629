import Foundation
import Shared

/// A catalog file that cannot be used; `message` names the field (`models[0].deployments[1].price.input`).
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "catalog: \(message)" }
}

/// Reads and validates a catalog file (JSON; see the service README for the format).
///
/// ```swift
/// let catalog = try CatalogLoader.load(path: "/etc/bulkhead/catalog.json", environment: ProcessInfo.processInfo.environment)
/// ```
public enum CatalogLoader {
    /// Most models and deployments per model accepted (explicit limits).
    static let maxModels = 1000
    static let maxDeployments = 100

    /// Loads `path`; credentials come from `environment[api_key_env]`.
    public static func load(path: String, environment: [String: String]) throws(CatalogError) -> Catalog {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CatalogError("cannot read the catalog file '\(path)'")
        }
        return try parse(data, environment: environment)
    }

    /// Parses and validates catalog JSON.
    public static func parse(_ data: Data, environment: [String: String]) throws(CatalogError) -> Catalog {
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw CatalogError("the file is not valid JSON (\(EmbeddingsRoutes.describe(error)))")
        }
        let top = try Fields(root, path: "catalog", known: ["models"])
        let models = try top.array("models", required: true) ?? []
        guard !models.isEmpty else { throw CatalogError("'models' must list at least one model") }
        guard models.count <= maxModels else { throw CatalogError("'models' has \(models.count) entries; at most \(maxModels)") }
        var result: [ModelConfig] = []
        var names: Set<String> = []
        var deploymentIDs: Set<String> = []
        for (i, value) in models.enumerated() {
            let model = try parseModel(value, path: "models[\(i)]", environment: environment)
            guard names.insert(model.name).inserted else { throw CatalogError("models[\(i)].name: '\(model.name)' appears twice") }
            for (j, d) in model.deployments.enumerated() {
                guard deploymentIDs.insert(d.id).inserted else {
                    throw CatalogError("models[\(i)].deployments[\(j)].id: '\(d.id)' is used by another deployment")
                }
            }
            result.append(model)
        }
        for (i, model) in result.enumerated() {
            for (j, fallback) in model.fallbacks.enumerated() {
                guard let target = result.first(where: { $0.name == fallback }) else {
                    throw CatalogError("models[\(i)].fallbacks[\(j)]: no model named '\(fallback)' in the catalog")
                }
                guard fallback != model.name else { throw CatalogError("models[\(i)].fallbacks[\(j)]: a model cannot fall back to itself") }
                guard target.kind == model.kind else {
                    throw CatalogError("models[\(i)].fallbacks[\(j)]: '\(fallback)' is a \(target.kind.rawValue) model, '\(model.name)' a \(model.kind.rawValue) model")
                }
            }
        }
        return Catalog(models: result)
    }

    static func parseModel(_ value: JSONValue, path: String, environment: [String: String]) throws(CatalogError) -> ModelConfig {
        let f = try Fields(value, path: path, known: ["name", "kind", "strategy", "fallbacks", "cacheable", "owned_by", "deployments"])
        guard let name = try f.string("name", required: true), !name.isEmpty, name.utf8.count <= 200,
            name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { throw CatalogError("\(path).name: must be 1–200 printable ASCII characters without spaces") }
        let strategyText = try f.string("strategy") ?? "weighted"
        guard let strategy = RoutingStrategy(rawValue: strategyText) else {
            throw CatalogError("\(path).strategy: '\(strategyText)' is not one of \(RoutingStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let fallbacks = try (f.array("fallbacks") ?? []).enumerated().map { (j, v) throws(CatalogError) -> String in
            guard let s = v.stringValue else { throw CatalogError("\(path).fallbacks[\(j)]: must be a model name") }
            return s
        }
        let cacheable = try f.bool("cacheable") ?? true
        let deploymentValues = try f.array("deployments", required: true) ?? []
        guard !deploymentValues.isEmpty else { throw CatalogError("\(path).deployments: must list at least one deployment") }
        guard deploymentValues.count <= maxDeployments else { throw CatalogError("\(path).deployments: at most \(maxDeployments)") }
        var deployments: [DeploymentConfig] = []
        for (j, d) in deploymentValues.enumerated() {
            deployments.append(try parseDeployment(d, model: name, index: j, path: "\(path).deployments[\(j)]", environment: environment))
        }
        let defaultKind: ModelKind = deployments.allSatisfy { $0.provider == .local } ? .embeddings : .chat
        let kindText = try f.string("kind") ?? defaultKind.rawValue
        guard let kind = ModelKind(rawValue: kindText) else { throw CatalogError("\(path).kind: must be chat or embeddings") }
        for (j, d) in deployments.enumerated() {
            if d.provider == .local && kind == .chat { throw CatalogError("\(path).deployments[\(j)].provider: local serves embeddings only") }
            if (d.provider == .simulator || d.provider == .anthropic) && kind == .embeddings {
                throw CatalogError("\(path).deployments[\(j)].provider: \(d.provider.rawValue) serves chat only")
            }
        }
        let ownedBy = try f.string("owned_by")
            ?? (deployments.allSatisfy { $0.provider == .simulator } ? "bulkhead-simulator"
                : deployments.allSatisfy { $0.provider == .local } ? "bulkhead-local" : deployments[0].provider.rawValue)
        return ModelConfig(
            name: name, kind: kind, strategy: strategy, fallbacks: fallbacks, cacheable: cacheable, ownedBy: ownedBy,
            deployments: deployments)
    }

    static func parseDeployment(
        _ value: JSONValue, model: String, index: Int, path: String, environment: [String: String]
    ) throws(CatalogError) -> DeploymentConfig {
        let f = try Fields(value, path: path, known: [
            "id", "provider", "upstream_model", "base_url", "api_key_env", "region", "weight", "max_concurrency",
            "context_window", "max_output_tokens", "price", "timeouts", "circuit_breaker", "simulator",
        ])
        let providerText = try f.string("provider", required: true) ?? ""
        guard let provider = ProviderKind(rawValue: providerText) else {
            throw CatalogError("\(path).provider: '\(providerText)' is not one of \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let id = try f.string("id") ?? "\(model)#\(index)"
        let upstreamModel = try f.string("upstream_model") ?? model
        if provider == .local && LocalProvider.entry(upstreamModel) == nil {
            throw CatalogError("\(path).upstream_model: the local provider serves \(LocalProvider.models.map(\.id).joined(separator: ", ")), not '\(upstreamModel)'")
        }
        var baseURL = try f.string("base_url") ?? ""
        switch provider {
        case .openai: if baseURL.isEmpty { baseURL = "https://api.openai.com/v1" }
        case .anthropic: if baseURL.isEmpty { baseURL = "https://api.anthropic.com" }
        case .local, .simulator: break
        }
        if provider == .openai || provider == .anthropic {
            guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
                throw CatalogError("\(path).base_url: must start with http:// or https://")
            }
            while baseURL.hasSuffix("/") { baseURL.removeLast() }
        }
        let apiKeyEnv = try f.string("api_key_env")
        var apiKey: String?
        if let apiKeyEnv {
            guard let v = environment[apiKeyEnv], !v.isEmpty else {
                throw CatalogError("\(path).api_key_env: the environment variable \(apiKeyEnv) is not set")
            }
            apiKey = v
        }
        let weight = try f.double("weight") ?? 1
        guard weight > 0, weight.isFinite else { throw CatalogError("\(path).weight: must be a number > 0") }
        let maxConcurrency = try f.int("max_concurrency", range: 0...1_000_000) ?? 0
        let contextWindow = try f.int("context_window", range: 1...100_000_000) ?? 128_000
        let maxOutput = try f.int("max_output_tokens", range: 1...10_000_000) ?? 4096
        var prices = Prices()
        if let p = try f.object("price") {
            let pf = try Fields(p, path: "\(path).price", known: ["input", "output", "cached_input"])
            prices = Prices(
                input: try pf.double("input", min: 0) ?? 0, output: try pf.double("output", min: 0) ?? 0,
                cachedInput: try pf.double("cached_input", min: 0))
        }
        var timeouts = DeploymentTimeouts()
        if let t = try f.object("timeouts") {
            let tf = try Fields(t, path: "\(path).timeouts", known: ["connect_ms", "first_token_ms", "total_ms"])
            if let v = try tf.int("connect_ms", range: 1...600_000) { timeouts.connect = .milliseconds(v) }
            if let v = try tf.int("first_token_ms", range: 1...3_600_000) { timeouts.firstToken = .milliseconds(v) }
            if let v = try tf.int("total_ms", range: 1...86_400_000) { timeouts.total = .milliseconds(v) }
        }
        var circuit = CircuitSettings()
        if let c = try f.object("circuit_breaker") {
            let cf = try Fields(c, path: "\(path).circuit_breaker", known: ["failure_threshold", "cooldown_ms"])
            if let v = try cf.int("failure_threshold", range: 1...10_000) { circuit.failureThreshold = v }
            if let v = try cf.int("cooldown_ms", range: 1...86_400_000) { circuit.cooldown = .milliseconds(v) }
        }
        var simulator = SimulatorSettings()
        if let s = try f.object("simulator") {
            guard provider == .simulator else { throw CatalogError("\(path).simulator: only for provider simulator") }
            let sf = try Fields(s, path: "\(path).simulator", known: ["ttft_ms", "tokens_per_second", "output_tokens", "failure_rate", "failure_status"])
            if let v = try sf.int("ttft_ms", range: 0...600_000) { simulator.timeToFirstToken = .milliseconds(v) }
            if let v = try sf.double("tokens_per_second", min: 0) { simulator.tokensPerSecond = v }
            if let v = try sf.int("output_tokens", range: 1...100_000) { simulator.outputTokens = v }
            if let v = try sf.double("failure_rate", min: 0) {
                guard v <= 1 else { throw CatalogError("\(path).simulator.failure_rate: must be between 0 and 1") }
                simulator.failureRate = v
            }
            if let v = try sf.int("failure_status", range: 400...599) { simulator.failureStatus = v }
        }
        return DeploymentConfig(
            id: id, model: model, provider: provider, upstreamModel: upstreamModel, baseURL: baseURL, apiKeyEnv: apiKeyEnv,
            apiKey: apiKey, region: try f.string("region") ?? "", weight: weight, maxConcurrency: maxConcurrency,
            contextWindow: contextWindow, maxOutputTokens: maxOutput, prices: prices, timeouts: timeouts, circuit: circuit,
            simulator: simulator)
    }
}

/// Typed reads of one JSON object's members, with errors naming `path.member`.
struct Fields {
    let object: [String: JSONValue]
    let path: String

    init(_ value: JSONValue, path: String, known: Set<String>) throws(CatalogError) {
        guard let o = value.objectValue else { throw CatalogError("\(path): must be an object") }
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw CatalogError("\(path).\(unknown): unknown field (known: \(known.sorted().joined(separator: ", ")))")
        }
        object = o
        self.path = path
    }

    private func present(_ key: String, required: Bool) throws(CatalogError) -> JSONValue? {
        guard let v = object[key], v != .null else {
            if required { throw CatalogError("\(path).\(key): is required") }
            return nil
        }
        return v
    }

    func string(_ key: String, required: Bool = false) throws(CatalogError) -> String? {
        guard let v = try present(key, required: required) else { return nil }
        guard let s = v.stringValue else { throw CatalogError("\(path).\(key): must be a string") }
        return s
    }

    func bool(_ key: String) throws(CatalogError) -> Bool? {
        guard let v = try present(key, required: false) else { return nil }
        guard let b = v.boolValue else { throw CatalogError("\(path).\(key): must be true or false") }
        return b
    }

    func double(_ key: String, min: Double? = nil) throws(CatalogError) -> Double? {
        guard let v = try present(key, required: false) else { return nil }
        guard let d = v.doubleValue, d.isFinite else { throw CatalogError("\(path).\(key): must be a number") }
        if let min, d < min { throw CatalogError("\(path).\(key): must be ≥ \(min)") }
        return d
    }

    func int(_ key: String, range: ClosedRange<Int>) throws(CatalogError) -> Int? {
        guard let v = try present(key, required: false) else { return nil }
        guard let d = v.doubleValue, d.rounded() == d, abs(d) < 1e15 else { throw CatalogError("\(path).\(key): must be an integer") }
        let i = Int(d)
        guard range.contains(i) else { throw CatalogError("\(path).\(key): must be between \(range.lowerBound) and \(range.upperBound)") }
        return i
    }

    func array(_ key: String, required: Bool = false) throws(CatalogError) -> [JSONValue]? {
        guard let v = try present(key, required: required) else { return nil }
        guard let a = v.arrayValue else { throw CatalogError("\(path).\(key): must be an array") }
        return a
    }

    func object(_ key: String) throws(CatalogError) -> JSONValue? {
        guard let v = try present(key, required: false) else { return nil }
        guard v.objectValue != nil else { throw CatalogError("\(path).\(key): must be an object") }
        return v
    }
}
