#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock milliseconds since the Unix epoch: entries' `created_at`/`expires_at` and the
/// counters' windows are in this unit. The stores take a clock function so tests can drive time.
enum CacheClock {
    /// Milliseconds since the epoch, now.
    @Sendable static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
