import Synchronization

/// Brute-force protection for logins, per account and per client address.
///
/// Every attempt is charged *before* the password is checked (so parallel guesses cannot slip
/// in while scrypt runs) and a success refunds it. Once a key has used its free attempts, each
/// further failure locks it for `baseDelay · 2^(failures − free)` seconds, capped at
/// `maxDelay`; a locked key gets 429 with `Retry-After` without any password work. Counters of
/// keys idle for an hour are forgotten.
final class LoginThrottle: Sendable {
    struct Entry {
        var failures: Int = 0
        var lockedUntil: Int64 = 0
        var lastFailure: Int64 = 0
    }

    let baseDelay: Int64
    let maxDelay: Int64
    /// Keys tracked at most; beyond it idle and unlocked keys are dropped.
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])
    static let forgetAfter: Int64 = 3600

    init(baseDelay: Int64, maxDelay: Int64, capacity: Int = 100_000) {
        self.baseDelay = max(1, baseDelay)
        self.maxDelay = max(self.baseDelay, maxDelay)
        self.capacity = capacity
    }

    /// Seconds until the most locked of `keys` opens again, or nil when none is locked.
    func retryAfter(_ keys: [String], now: Int64) -> Int64? {
        let wait = entries.withLock { e in keys.compactMap { e[$0].map { $0.lockedUntil - now } }.max() ?? 0 }
        return wait > 0 ? wait : nil
    }

    /// Charges one attempt to `key` with `free` attempts before delays.
    func charge(_ key: String, free: Int, now: Int64) {
        let base = baseDelay, cap = maxDelay, capacity = self.capacity
        entries.withLock { e in
            if e.count >= capacity {
                e = e.filter { $0.value.lockedUntil > now || now - $0.value.lastFailure < Self.forgetAfter }
            }
            var entry = e[key] ?? Entry()
            if now - entry.lastFailure >= Self.forgetAfter { entry.failures = 0 }
            entry.failures += 1
            entry.lastFailure = now
            if entry.failures >= free {
                let exponent = min(entry.failures - free, 30)
                entry.lockedUntil = now + min(cap, base << Int64(exponent))
            }
            e[key] = entry
        }
    }

    /// Undoes the charge for a successful attempt; `clear` forgets the key entirely (accounts).
    /// A key back under `free` failures is unlocked (the charge may have locked it).
    func refund(_ key: String, free: Int, clear: Bool) {
        entries.withLock { e in
            guard var entry = e[key] else { return }
            if clear {
                e[key] = nil
                return
            }
            entry.failures = max(0, entry.failures - 1)
            if entry.failures < free { entry.lockedUntil = 0 }
            e[key] = entry
        }
    }
}
