import Foundation

/// Counters in the cache service (`POST /internal/v1/counters/apply`): one store shared by every
/// gateway replica, so limits hold globally.
struct RemoteCounterStore: CounterStore {
    let service: InternalServiceClient
    /// Deadline of one apply call; beyond it the store counts as unreachable.
    let timeout: Duration

    private struct Body: Encodable { var ops: [CounterOp] }

    func apply(_ ops: [CounterOp]) async throws -> CounterApplyResult {
        // Clamped here too, whoever built the ops: an out-of-range value is a 422 for the whole call.
        let body = try JSONEncoder().encode(Body(ops: ops.map { $0.clamped() }))
        return try await service.json(CounterApplyResult.self, .post, "/internal/v1/counters/apply", body: Array(body), timeout: timeout)
    }
}
