/// Picks the deployment for the next attempt at a model, by its strategy, among those that are
/// healthy (circuit not open), not full (max concurrency) and big enough for the prompt.
struct DeploymentSelector {
    /// - Parameters:
    ///   - tried: deployments already tried for this call; used again only when no other is eligible.
    ///   - requiredContext: prompt tokens plus the requested completion cap.
    static func pick(
        _ route: ModelRoute, tried: Set<String>, requiredContext: Int, now: ContinuousClock.Instant = .now
    ) -> RoutedDeployment? {
        var fresh: [RoutedDeployment] = []
        var retried: [RoutedDeployment] = []
        for d in route.deployments {
            guard d.config.contextWindow >= requiredContext else { continue }
            guard d.state.available(now: now) else { continue }
            if d.config.maxConcurrency > 0 && d.state.inFlight.load(ordering: .relaxed) >= d.config.maxConcurrency { continue }
            if tried.contains(d.config.id) { retried.append(d) } else { fresh.append(d) }
        }
        let pool = fresh.isEmpty ? retried : fresh
        if pool.count <= 1 { return pool.first }
        switch route.config.strategy {
        case .weighted: return weighted(pool)
        case .leastOutstanding:
            var best = pool[0]
            var bestLoad = Double(best.state.inFlight.load(ordering: .relaxed)) / best.config.weight
            var ties = 1
            for d in pool.dropFirst() {
                let load = Double(d.state.inFlight.load(ordering: .relaxed)) / d.config.weight
                if load < bestLoad {
                    best = d; bestLoad = load; ties = 1
                } else if load == bestLoad {
                    // Reservoir sampling spreads ties evenly.
                    ties += 1
                    if Int.random(in: 0..<ties) == 0 { best = d }
                }
            }
            return best
        case .lowestLatency:
            // Unmeasured deployments first; then the fastest, exploring another 5% of the time so stale numbers refresh.
            if let unmeasured = pool.first(where: { $0.state.latency == 0 }) { return unmeasured }
            if Int.random(in: 0..<20) == 0 { return weighted(pool) }
            return pool.min { $0.state.latency < $1.state.latency }
        }
    }

    static func weighted(_ pool: [RoutedDeployment]) -> RoutedDeployment? {
        var total = 0.0
        for d in pool { total += d.config.weight }
        var r = Double.random(in: 0..<total)
        for d in pool {
            r -= d.config.weight
            if r < 0 { return d }
        }
        return pool.last
    }

    /// Whether any deployment of the route could take a prompt needing `requiredContext`.
    static func fits(_ route: ModelRoute, requiredContext: Int) -> Bool {
        route.deployments.contains { $0.config.contextWindow >= requiredContext }
    }
}
