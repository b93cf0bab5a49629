import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// Cryptographically secure random bytes from OpenSSL's CSPRNG (`RAND_bytes`).
public enum SecureRandom {
    /// Returns `count` random bytes (an empty array when `count <= 0`).
    ///
    /// Uses `RAND_bytes`; should that ever fail, falls back to the kernel (`/dev/urandom`).
    /// If both fail the process stops: continuing with predictable keys or tokens would be worse.
    public static func bytes(count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var output = [UInt8](repeating: 0, count: count)
        let ok = output.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            if count <= Int(Int32.max), RAND_bytes(base, Int32(count)) == 1 {
                return true
            }
            OpenSSLErrorQueue.clear()
            return fillFromKernel(UnsafeMutableRawBufferPointer(buffer))
        }
        guard ok else {
            fatalError("SecureRandom: neither RAND_bytes nor /dev/urandom produced random bytes")
        }
        return output
    }

    /// Returns a random token of `bytes` random bytes, encoded as unpadded base64url.
    ///
    /// 32 bytes (the default) gives 256 bits of entropy in 43 characters, safe in URLs and headers.
    public static func token(bytes: Int = 32) -> String {
        Base64URL.encode(Self.bytes(count: bytes))
    }

    /// Fills `buffer` from `/dev/urandom`, retrying short reads and interruptions.
    private static func fillFromKernel(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        #if canImport(Glibc)
        guard let base = buffer.baseAddress else { return buffer.isEmpty }
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var filled = 0
        while filled < buffer.count {
            let n = read(fd, base + filled, buffer.count - filled)
            if n > 0 {
                filled += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
        #else
        return false
        #endif
    }
}
