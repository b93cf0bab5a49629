import Dispatch

/// Runs CPU-heavy or blocking work (password hashing, fsync-heavy storage calls) off the event
/// loops and off Swift's cooperative pool, so one slow call never stalls other connections.
///
/// ```swift
/// router.post("/v1/auth/login") { request, _ in try await BlockingWork.run { try api.login(request) } }
/// ```
public enum BlockingWork {
    /// Dispatch grows this queue's threads as work blocks, unlike the fixed-width cooperative pool.
    private static let queue = DispatchQueue(label: "bulkhead.blocking-work", qos: .userInitiated, attributes: .concurrent)

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
