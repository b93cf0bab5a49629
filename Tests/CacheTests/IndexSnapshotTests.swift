@testable import Cache
import Foundation
import Testing

/// Snapshots: an index written to a file and loaded back answers exactly like the original (graph
/// and exact form), keeps working, and damaged or foreign files are refused with a clear error.
@Suite struct IndexSnapshotTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("index-snapshot-\(UUID().uuidString)-\(name)").path
    }

    @Test func hnswSnapshotRoundTripsAndKeepsWorking() throws {
        var data = ClusteredVectors(dimension: 32, clusters: 20, seed: 5)
        let vectors = data.take(1500)
        let config = VectorIndexConfiguration(hnswThreshold: 500, m: 8, efConstruction: 64, efSearch: 32)
        let index = VectorIndex(dimension: 32, configuration: config)
        for (i, v) in vectors.enumerated() { index.insert(id: UInt64(i), vector: v) }
        for i in stride(from: 0, to: 1500, by: 10) { index.remove(id: UInt64(i)) }
        #expect(index.kind == "hnsw")
        let path = Self.temporaryPath("hnsw")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try index.writeSnapshot(to: path)
        let loaded = try VectorIndex.loadSnapshot(from: path, dimension: 32, configuration: config)
        #expect(loaded.kind == "hnsw")
        #expect(loaded.count == index.count)
        let queries = data.take(50)
        for q in queries { #expect(loaded.search(q, k: 5) == index.search(q, k: 5)) }
        var ids: [UInt64] = []
        loaded.forEachID { ids.append($0) }
        #expect(Set(ids) == Set((0..<1500).filter { $0 % 10 != 0 }.map(UInt64.init)))
        // Reconciling after a restart: removals and inserts work on the loaded graph.
        loaded.remove(id: 1)
        loaded.insert(id: 5000, vector: vectors[0])
        #expect(loaded.search(vectors[0], k: 1).first?.id == 5000)
        #expect(!loaded.contains(id: 1))
    }

    @Test func exactSnapshotRoundTrips() throws {
        let index = VectorIndex(dimension: 4)
        index.insert(id: 7, vector: [1, 0, 0, 0])
        index.insert(id: 9, vector: [0, 2, 0, 0])
        let path = Self.temporaryPath("exact")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try index.writeSnapshot(to: path)
        let loaded = try VectorIndex.loadSnapshot(from: path, dimension: 4)
        #expect(loaded.kind == "exact")
        #expect(loaded.count == 2)
        #expect(loaded.search([0, 1, 0, 0], k: 1) == [VectorMatch(id: 9, similarity: 1)])
    }

    @Test func damagedOrForeignSnapshotsAreRefused() throws {
        var data = ClusteredVectors(dimension: 16, clusters: 4, seed: 8)
        let index = VectorIndex(dimension: 16, configuration: .init(hnswThreshold: 100, m: 4, efConstruction: 16))
        for (i, v) in data.take(200).enumerated() { index.insert(id: UInt64(i), vector: v) }
        let path = Self.temporaryPath("damaged")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try index.writeSnapshot(to: path)
        let config = VectorIndexConfiguration(hnswThreshold: 100, m: 4, efConstruction: 16)
        #expect(throws: VectorIndexSnapshotError.self) { try VectorIndex.loadSnapshot(from: path, dimension: 8, configuration: config) }
        #expect(throws: VectorIndexSnapshotError.self) { try VectorIndex.loadSnapshot(from: path, dimension: 16, configuration: .init(m: 16)) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        #expect(throws: VectorIndexSnapshotError.invalid("snapshot truncated")) {
            try VectorIndex.loadSnapshot(from: path, dimension: 16, configuration: config)
        }
        try Data("not a snapshot at all".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: VectorIndexSnapshotError.self) { try VectorIndex.loadSnapshot(from: path, dimension: 16, configuration: config) }
        #expect(throws: VectorIndexSnapshotError.self) { try VectorIndex.loadSnapshot(from: path + ".missing", dimension: 16) }
    }
}
