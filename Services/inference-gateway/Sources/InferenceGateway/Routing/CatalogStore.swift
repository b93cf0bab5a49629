import Synchronization

/// One deployment ready to route to: its configuration and its long-lived state.
struct RoutedDeployment: Sendable {
    var config: DeploymentConfig
    var state: DeploymentState
}

/// A model ready to route: its configuration and its deployments.
struct ModelRoute: Sendable {
    var config: ModelConfig
    var deployments: [RoutedDeployment]
}

/// An immutable view of the catalog with each deployment's state attached. Requests take the
/// current snapshot once (a reference, no copy) and finish on it even if a reload swaps it.
final class CatalogSnapshot: Sendable {
    let catalog: Catalog
    let routes: [String: ModelRoute]
    let loadedAt: Int

    init(catalog: Catalog, states: [String: DeploymentState], loadedAt: Int) {
        self.catalog = catalog
        self.loadedAt = loadedAt
        var routes: [String: ModelRoute] = [:]
        for m in catalog.models {
            routes[m.name] = ModelRoute(
                config: m,
                deployments: m.deployments.map { d in
                    RoutedDeployment(config: d, state: states[d.id] ?? DeploymentState(id: d.id, circuit: d.circuit))
                })
        }
        self.routes = routes
    }

    func route(_ model: String) -> ModelRoute? { routes[model] }

    /// The model and its fallbacks, in order, each once.
    func chain(_ model: String) -> [ModelRoute] {
        guard let first = routes[model] else { return [] }
        var out = [first]
        var seen: Set<String> = [model]
        for f in first.config.fallbacks where seen.insert(f).inserted {
            if let r = routes[f] { out.append(r) }
        }
        return out
    }
}

/// Holds the current catalog snapshot and swaps it atomically on reload, keeping the state
/// (circuit breakers, latency, in-flight counts) of deployments whose id survives.
final class CatalogStore: Sendable {
    private let snapshot: Mutex<CatalogSnapshot>

    init(_ catalog: Catalog) {
        snapshot = Mutex(CatalogSnapshot(catalog: catalog, states: [:], loadedAt: Int(WallClock.nowSeconds)))
    }

    var current: CatalogSnapshot { snapshot.withLock { $0 } }

    /// Replaces the catalog. In-flight requests keep the snapshot they started with.
    func replace(_ catalog: Catalog) {
        snapshot.withLock { old in
            var states: [String: DeploymentState] = [:]
            for route in old.routes.values {
                for d in route.deployments { states[d.config.id] = d.state }
            }
            for m in catalog.models {
                for d in m.deployments { states[d.id]?.updateSettings(d.circuit) }
            }
            old = CatalogSnapshot(catalog: catalog, states: states, loadedAt: Int(WallClock.nowSeconds))
        }
    }
}
