import BulkheadObservability
import Foundation
import Testing

@testable import Cache

/// A namespace whose HNSW graph is built gradually (past `CACHE_HNSW_SYNC_BUILD_LIMIT`) gets a
/// complete graph from the background maintenance, without further stores; searches stay
/// exact and correct while it is built.
@Suite struct CacheIndexMaintenanceTests {
    static let threshold = 64
    static let dimension = 8

    static func vector(_ i: Int) -> [Double] { CacheVectors.random(seed: UInt64(5000 + i), dimension: dimension) }

    /// The store on its own (no background loop): the crossing store leaves a backlog that
    /// only `maintainIndexes` finishes, slice by slice.
    @Test func maintainIndexesFinishesABuildThatStoresStarted() async throws {
        var settings = CacheSettings()
        settings.hnswThreshold = Self.threshold
        settings.hnswSynchronousBuildLimit = 0
        let store = CacheStore(settings: settings, metrics: try CacheMetrics(registry: MetricsRegistry(includeProcessMetrics: false)), writer: nil)
        let id = NamespaceID(tenant: "t", namespace: "grow")
        for i in 0..<Self.threshold {
            let input = PutInput(
                namespace: id, key: "k\(i)", vector: Self.vector(i).map(Float.init), response: Array("\(i)".utf8), usage: nil, costMicroUSD: 0,
                ttlSeconds: nil)
            #expect(try await store.put(input).created)
        }
        let building = try await store.namespaceStats(id)
        #expect(building.index == "exact")
        #expect(building.indexBuildBacklog > 0)
        #expect(building.indexBuildBacklog < Self.threshold)  // the crossing store did a step

        // Searches during the build are exact: a stored vector finds itself.
        let during = try await store.lookup(LookupInput(namespace: id, key: nil, vector: Self.vector(17).map(Float.init), threshold: 0.99, exactOnly: false))
        guard case .hit(.semantic, _, let e) = during else {
            Issue.record("expected a semantic hit during the build, got \(during)")
            return
        }
        #expect(e.key == "k17")

        // Slices of zero time still add one entry each, so this loop always ends.
        var slices = 0
        while await store.maintainIndexes(budget: .zero) {
            slices += 1
            try #require(slices <= Self.threshold)
        }
        #expect(slices > 0)
        let built = try await store.namespaceStats(id)
        #expect(built.index == "hnsw")
        #expect(built.indexBuildBacklog == 0)
        #expect(built.indexVectors == Self.threshold)
        #expect(await store.totalStats().indexVectors == ["exact": 0, "hnsw": Self.threshold])
        #expect(await store.maintainIndexes(budget: .milliseconds(5)) == false)

        let after = try await store.lookup(LookupInput(namespace: id, key: nil, vector: Self.vector(42).map(Float.init), threshold: 0.99, exactOnly: false))
        guard case .hit(.semantic, _, let found) = after else {
            Issue.record("expected a semantic hit from the graph, got \(after)")
            return
        }
        #expect(found.key == "k42")
    }

    /// The service: a namespace crossing the threshold ends up `hnsw` with no further stores.
    @Test func namespaceCrossingTheThresholdBecomesHNSWWithoutFurtherStores() async throws {
        let host = try await CacheTestHost.start([
            "CACHE_HNSW_THRESHOLD": "\(Self.threshold)", "CACHE_HNSW_SYNC_BUILD_LIMIT": "0",
        ])
        for i in 0..<Self.threshold {
            #expect(try await host.put("t", "grow", "k\(i)", ["vector": Self.vector(i), "response": i]).status == 201)
        }
        var stats = try await host.call(.get, "/internal/v1/cache/t/grow")
        let deadline = ContinuousClock.now + .seconds(10)
        while stats["index"] as? String != "hnsw", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            stats = try await host.call(.get, "/internal/v1/cache/t/grow")
        }
        #expect(stats["index"] as? String == "hnsw")
        #expect(stats.int("index_build_backlog") == 0)
        #expect(stats.int("index_vectors") == Self.threshold)
        #expect(try await host.metric(#"cache_index_vectors{kind="hnsw"}"#) == Double(Self.threshold))
        let hit = try await host.lookup("t", "grow", ["vector": Self.vector(9)])
        #expect(hit["kind"] as? String == "semantic")
        #expect(hit["key"] as? String == "k9")
        await host.stop()
    }
}
