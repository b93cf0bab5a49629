extension CacheStore {
    /// Advances the HNSW graph builds in progress for up to `budget` of the store's time, one
    /// entry at a time (an entry costs about 1–4 ms at 384 dimensions and efConstruction 200),
    /// so requests queued behind it wait at most about `budget` plus one entry (a namespace
    /// with work left always gets at least one entry, even with a zero budget). Returns whether
    /// a build is still unfinished.
    ///
    /// Inserts advance a build only a little (`CacheSettings.hnswBuildStepPerInsert`); this is
    /// what finishes it, also for a namespace that stopped receiving inserts. Searches stay
    /// exact (and correct) until the graph is complete, then the namespace reports `hnsw`.
    func maintainIndexes(budget: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        var finished = false
        for id in graphBuilds {
            guard let ns = namespaces[id], let index = ns.index, index.graphBuildBacklog > 0 else {
                graphBuilds.remove(id)
                continue
            }
            // At least one entry per call, so even a zero budget makes progress.
            repeat {
                withIndexAccounting(ns) { $0.index?.maintain(budget: 1) }
            } while index.graphBuildBacklog > 0 && clock.now < deadline
            if index.graphBuildBacklog == 0 {
                graphBuilds.remove(id)
                finished = true
            }
            if clock.now >= deadline { break }
        }
        if finished { publishGauges() }
        return !graphBuilds.isEmpty
    }
}
