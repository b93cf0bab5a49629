import Synchronization

/// A ``LogSink`` that keeps lines in memory, for tests.
public final class InMemoryLogSink: LogSink {
    private let storage = Mutex<[String]>([])

    /// Creates an empty sink.
    public init() {}

    /// Stores the line without its trailing newline.
    public func write(_ line: [UInt8]) {
        var end = line.endIndex
        if end > line.startIndex, line[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        let text = String(decoding: line[line.startIndex..<end], as: UTF8.self)
        storage.withLock { $0.append(text) }
    }

    /// The lines written so far, oldest first, without trailing newlines.
    public var lines: [String] { storage.withLock { $0 } }

    /// Forgets every line.
    public func removeAll() { storage.withLock { $0.removeAll() } }
}
