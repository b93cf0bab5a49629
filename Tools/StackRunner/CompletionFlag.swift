import Synchronization

/// A flag one task sets and others poll (for example "the ingress has finished draining").
final class CompletionFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
