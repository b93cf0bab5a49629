import BulkheadHTTP
import Foundation

/// `GET /v1/models` and `GET /v1/models/{model}`: the catalog in OpenAI's list shape.
struct ModelsRoute: Sendable {
    let store: CatalogStore
    let local: LocalProvider

    func register(on router: inout Router) {
        let store = store
        let local = local
        router.get("/v1/models") { _, _ in
            let snapshot = store.current
            var models: [ModelList.Model] = []
            for m in snapshot.catalog.models { models.append(await Self.entry(m, created: snapshot.loadedAt, local: local)) }
            return .json(bytes: [UInt8]((try? JSONEncoder().encode(ModelList(data: models))) ?? Data()))
        }
        router.get("/v1/models/{model}") { _, context in
            let snapshot = store.current
            guard let name = context.parameters["model"], let m = snapshot.catalog.model(name) else {
                return GatewayError(
                    status: .notFound, message: "The model '\(context.parameters["model"] ?? "")' does not exist.", type: "invalid_request_error",
                    param: "model", code: "model_not_found").response
            }
            return .json(bytes: [UInt8]((try? JSONEncoder().encode(await Self.entry(m, created: snapshot.loadedAt, local: local))) ?? Data()))
        }
    }

    /// `loaded` says whether a local model is in memory (other providers are always ready).
    static func entry(_ m: ModelConfig, created: Int, local: LocalProvider) async -> ModelList.Model {
        var loaded = true
        for d in m.deployments where d.provider == .local {
            if !(await local.isLoaded(d.upstreamModel)) { loaded = false }
        }
        return ModelList.Model(id: m.name, created: created, ownedBy: m.ownedBy, loaded: loaded, kind: m.kind.rawValue)
    }
}
