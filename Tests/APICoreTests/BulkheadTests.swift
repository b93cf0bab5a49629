import BulkheadHTTP
import Testing

/// The bulkhead itself: with the AI transport (queue-broker) gone, api-core stays ready and its
/// core endpoints keep answering; only job submission says the queue is unavailable.
@Suite("api-core: bulkhead")
struct BulkheadTests {
    @Test func coreEndpointsServeWhileQueueBrokerIsDown() async throws {
        let stack = try await APIStack()
        let owner = try await stack.signup()
        let before = try await stack.submit(owner)
        #expect(before.status == 202, "\(before.text)")

        await stack.broker.shutdown()

        #expect(try await stack.call(.get, "/readyz").status == 200)
        let put = try await stack.call(.put, "/v1/me/settings", json: ["theme": "dark"], bearer: owner.access)
        #expect(put.status == 200, "\(put.text)")
        let get = try await stack.call(.get, "/v1/me/settings", bearer: owner.access)
        #expect(get.status == 200)
        #expect(get.json["theme"]?.stringValue == "dark" || get.text.contains("dark"))
        #expect(try await stack.call(.get, "/v1/jobs", bearer: owner.access).status == 200)

        let refused = try await stack.submit(owner)
        #expect(refused.status == 503)
        #expect(refused.errorCode == "queue_unavailable")
        await stack.stop()
    }
}
