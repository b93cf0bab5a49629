/// Where a ``Logger`` sends finished lines.
///
/// Each call passes one complete line: a JSON object followed by a single `"\n"`.
/// Implementations must be thread-safe and must write each line as a unit, so that
/// lines from different threads never interleave.
///
/// The library provides ``FileDescriptorLogSink`` (standard error by default) and
/// ``InMemoryLogSink`` (for tests).
public protocol LogSink: Sendable {
    /// Writes one complete line, including its trailing newline.
    func write(_ line: [UInt8])
}
