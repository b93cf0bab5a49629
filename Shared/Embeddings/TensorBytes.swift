#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes behind a `SafetensorsFile`: an open file read with `pread` (the model loader's case:
/// only one tensor is in memory at a time) or an in-memory copy (tests, small files).
///
/// `@unchecked Sendable`: both forms are immutable after init and `pread` does not move a shared
/// file offset, so concurrent reads are safe.
final class TensorBytes: @unchecked Sendable {
    private let descriptor: Int32
    private let bytes: [UInt8]
    private let path: String
    /// Total size in bytes.
    let count: Int

    init(path: String) throws(EmbeddingError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .unreadableFile(path: path, reason: reason)
        }
        descriptor = fd
        count = Int(info.st_size)
        bytes = []
        self.path = path
    }

    init(bytes: [UInt8]) {
        descriptor = -1
        self.bytes = bytes
        count = bytes.count
        path = "<memory>"
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Fills `array`'s storage with the bytes at `offset`.
    func read<T>(at offset: Int, into array: inout [T]) throws(EmbeddingError) {
        var failure: EmbeddingError?
        array.withUnsafeMutableBytes { buffer in
            do throws(EmbeddingError) { try read(at: offset, into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Fills `buffer` with the bytes at `offset` (the caller has checked the range against `count`).
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(EmbeddingError) {
        guard buffer.count > 0, let base = buffer.baseAddress else { return }
        guard offset >= 0, offset + buffer.count <= count else {
            throw .invalidSafetensors("read of \(buffer.count) bytes at \(offset) past the end of the \(count)-byte file")
        }
        if descriptor < 0 {
            bytes.withUnsafeBytes { src in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + buffer.count)]))
            }
            return
        }
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, base + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw .unreadableFile(path: path, reason: n == 0 ? "file ended early" : String(cString: strerror(errno)))
            }
            done += n
        }
    }
}
