import Foundation
import Testing

/// Bad input gets a clear JSON error with the right status: vectors of the wrong dimension,
/// NaN/Infinity/zero vectors, oversized entries, unknown namespaces, bad names and bodies.
@Suite struct CacheErrorTests {
    @Test func badVectorsAreRefusedClearly() async throws {
        let c = try await CacheTestHost.start()
        #expect(try await c.put("t", "ns", "k", ["vector": [1.0, 0.0, 0.5], "response": 1]).status == 201)

        let wrongDim = try await c.put("t", "ns", "k2", ["vector": [1.0, 0.0], "response": 1])
        #expect(wrongDim.status == 422)
        #expect(wrongDim.errorCode == "dimension_mismatch")
        #expect(wrongDim.text.contains("3 dimensions"))
        let wrongDimLookup = try await c.lookup("t", "ns", ["vector": [1.0, 0.0, 0.0, 0.0]])
        #expect(wrongDimLookup.status == 422)
        #expect(wrongDimLookup.errorCode == "dimension_mismatch")

        // NaN and Infinity as Python's json module writes them (not strict JSON).
        for literal in ["NaN", "Infinity", "-Infinity"] {
            let r = try await c.call(.put, "/internal/v1/cache/t/ns/entries/n", raw: #"{"vector":[1,\#(literal),0],"response":1}"#)
            #expect(r.status == 422, "\(literal): \(r.text)")
            #expect(r.errorCode == "invalid_vector")
            #expect(r.text.contains("vector[1]"))
            let l = try await c.call(.post, "/internal/v1/cache/t/ns/lookup", raw: #"{"vector":[\#(literal),1,0]}"#)
            #expect(l.errorCode == "invalid_vector")
        }
        let overflow = try await c.call(.put, "/internal/v1/cache/t/ns/entries/n", raw: #"{"vector":[1,1e39,0],"response":1}"#)
        #expect(overflow.errorCode == "invalid_vector")
        let zero = try await c.put("t", "ns", "z", ["vector": [0.0, 0.0, 0.0], "response": 1])
        #expect(zero.status == 422)
        #expect(zero.errorCode == "invalid_vector")
        let empty = try await c.put("t", "fresh", "z", ["vector": [Double](), "response": 1])
        #expect(empty.errorCode == "invalid_vector")
        let notNumbers = try await c.call(.put, "/internal/v1/cache/t/ns/entries/n", raw: #"{"vector":[1,"x",0],"response":1}"#)
        #expect(notNumbers.status == 422)
        #expect(notNumbers.errorCode == "invalid_vector")
        // None of the refused stores changed anything.
        #expect(try await c.call(.get, "/internal/v1/cache/t/ns").int("entries") == 1)
        await c.stop()
    }

    @Test func oversizedValuesMissingFieldsAndBadBodies() async throws {
        let c = try await CacheTestHost.start(["CACHE_MAX_ENTRY_BYTES": "4096"])
        let tooBig = try await c.put("t", "ns", "k", ["response": String(repeating: "y", count: 5000)])
        #expect(tooBig.status == 413)
        #expect(tooBig.errorCode == "entry_too_large")
        #expect(tooBig.text.contains("4096"))
        let missing = try await c.put("t", "ns", "k", ["vector": [1.0]])
        #expect(missing.status == 422)
        #expect(missing.errorCode == "missing_field")
        #expect(missing.text.contains("response"))
        let nullResponse = try await c.call(.put, "/internal/v1/cache/t/ns/entries/k", raw: #"{"response":null}"#)
        #expect(nullResponse.errorCode == "missing_field")
        let unknown = try await c.put("t", "ns", "k", ["response": 1, "vectr": [1.0]])
        #expect(unknown.status == 422)
        #expect(unknown.errorCode == "unknown_field")
        #expect(unknown.text.contains("vectr"))
        let badTTL = try await c.put("t", "ns", "k", ["response": 1, "ttl_seconds": 0])
        #expect(badTTL.errorCode == "invalid_field")
        let badJSON = try await c.call(.put, "/internal/v1/cache/t/ns/entries/k", raw: "{not json")
        #expect(badJSON.status == 400)
        #expect(badJSON.errorCode == "invalid_json")
        let noQuery = try await c.lookup("t", "ns", [:])
        #expect(noQuery.status == 422)
        #expect(noQuery.errorCode == "missing_field")
        // The store above failed, so the namespace was never created.
        let unknownNS = try await c.lookup("t", "ns", ["key": "k"])
        #expect(unknownNS.status == 404)
        #expect(unknownNS.errorCode == "namespace_not_found")
        #expect(try await c.call(.get, "/internal/v1/cache/t/ns").errorCode == "namespace_not_found")
        #expect(try await c.call(.get, "/internal/v1/cache/t/ns/entries/k").errorCode == "namespace_not_found")
        #expect(try await c.put("t", "ns", "k", ["response": 1]).status == 201)
        let badThreshold = try await c.lookup("t", "ns", ["key": "k", "threshold": 1.5])
        #expect(badThreshold.errorCode == "invalid_field")
        let noQueryNow = try await c.lookup("t", "ns", ["threshold": 0.5])
        #expect(noQueryNow.errorCode == "missing_field")
        // Text without a configured gateway: 503 with a clear message; key lookups keep working.
        let text = try await c.lookup("t", "ns", ["text": "hello"])
        #expect(text.status == 503)
        #expect(text.errorCode == "embeddings_unavailable")
        #expect(text.text.contains("GATEWAY_URL"))
        #expect(try await c.put("t", "ns", "k2", ["text": "hello", "response": 1]).errorCode == "embeddings_unavailable")
        #expect(try await c.lookup("t", "ns", ["key": "k"]).bool("hit") == true)
        await c.stop()
    }

    @Test func badNamesAreRefused() async throws {
        let c = try await CacheTestHost.start()
        let long = String(repeating: "a", count: 129)
        for path in [
            "/internal/v1/cache/bad%20tenant/ns/entries/k", "/internal/v1/cache/t/\(long)/entries/k",
            "/internal/v1/cache/t/ns/entries/\(String(repeating: "k", count: 257))", "/internal/v1/cache/t/ns/entries/a%2Fb",
            "/internal/v1/cache/t%C3%A9/ns/entries/k",
        ] {
            let r = try await c.call(.put, path, json: ["response": 1])
            #expect(r.status == 400, "\(path): \(r.text)")
            #expect(r.errorCode == "invalid_name", "\(path)")
        }
        #expect(try await c.call(.put, "/internal/v1/cache/t:1.x_y-z/n.s:1/entries/k:1._-", json: ["response": 1]).status == 201)
        #expect(try await c.lookup("t", "ns", ["key": "bad key"]).errorCode == "invalid_name")
        #expect(try await c.call(.get, "/internal/v1/counters/bad%20key").errorCode == "invalid_name")
        #expect(try await c.apply([["key": "a b", "kind": "counter", "amount": 1, "ttl_seconds": 10]]).errorCode == "invalid_name")
        await c.stop()
    }
}
