import BulkheadHTTPClient
import Synchronization

/// Polls `GET <url>/readyz` of several services until each answers 200.
///
/// ```swift
/// let outcome = await ReadinessWaiter(client: client).wait(for: ["auth": "http://127.0.0.1:8081"], timeout: .seconds(60))
/// ```
public struct ReadinessWaiter: Sendable {
    /// What waiting ended with.
    public enum Outcome: Sendable, Equatable {
        /// Every service answered 200.
        case ready
        /// The timeout passed; the services not ready then, with the last thing each said.
        case timedOut(notReady: [String: String])
        /// `shouldStop` turned true first.
        case stopped
    }

    let client: HTTPClient
    /// Time between two probes of one service.
    public var interval: Duration = .milliseconds(100)
    /// Deadline of one probe.
    public var probeTimeout: Duration = .seconds(2)

    public init(client: HTTPClient) { self.client = client }

    /// Waits until all of `targets` (name → base URL) are ready, the timeout passes, or `shouldStop` says so.
    public func wait(
        for targets: [String: String], timeout: Duration, shouldStop: @escaping @Sendable () -> Bool = { false }
    ) async -> Outcome {
        let deadline = ContinuousClock.now + timeout
        let pending = PendingReasons(targets.mapValues { _ in "no answer yet" })
        await withTaskGroup(of: Void.self) { group in
            for (name, base) in targets {
                group.addTask {
                    while ContinuousClock.now < deadline && !shouldStop() {
                        if let reason = await probe(base) {
                            pending.set(name, reason)
                        } else {
                            pending.remove(name)
                            return
                        }
                        await ChildProcess.sleep(interval)
                    }
                }
            }
        }
        let notReady = pending.snapshot
        if notReady.isEmpty { return .ready }
        return shouldStop() ? .stopped : .timedOut(notReady: notReady)
    }

    /// nil when ready; otherwise why not.
    func probe(_ base: String) async -> String? {
        do {
            let response = try await client.execute(HTTPClientRequest(method: .get, url: base + "/readyz"), timeout: probeTimeout)
            let body = (try? await response.body.collect(upTo: 4096)) ?? []
            if response.status.code == 200 { return nil }
            let text = String(decoding: body.prefix(300), as: UTF8.self)
            return "/readyz answered \(response.status.code)" + (text.isEmpty ? "" : ": \(text)")
        } catch let error as HTTPClientError {
            return "\(error.kind.rawValue): \(error.message)"
        } catch {
            return String(describing: error)
        }
    }
}

/// Why each service is not ready yet, shared by the probing tasks.
private final class PendingReasons: Sendable {
    private let reasons: Mutex<[String: String]>
    init(_ initial: [String: String]) { reasons = Mutex(initial) }
    func set(_ name: String, _ reason: String) { reasons.withLock { $0[name] = reason } }
    func remove(_ name: String) { reasons.withLock { _ = $0.removeValue(forKey: name) } }
    var snapshot: [String: String] { reasons.withLock { $0 } }
}
