#if canImport(Glibc)
import Glibc
#endif

/// The shared credential for `/internal/` routes: `BULKHEAD_INTERNAL_TOKEN` from the
/// environment, else the one kept in `<data dir>/internal-token`, else a new random one
/// written there with mode 0600 so restarts of the stack keep it.
public enum InternalToken {
    public static let fileName = "internal-token"

    /// Why the token could not be read or stored.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Resolves the token; creates `dataDirectory` if needed.
    public static func resolve(environment: [String: String], dataDirectory: String) throws(Failure) -> String {
        if let fromEnv = environment["BULKHEAD_INTERNAL_TOKEN"], !trimmed(fromEnv).isEmpty { return trimmed(fromEnv) }
        let path = dataDirectory + "/" + fileName
        if let existing = try read(path) { return existing }
        let token = generate()
        try store(token, at: path)
        return token
    }

    /// 32 random bytes as 64 hex digits (the system generator: getrandom(2) on Linux).
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var out = ""
        for _ in 0..<4 {
            let word: UInt64 = rng.next()
            let hex = String(word, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }

    /// The stored token, nil when there is no file or it is empty. Tightens loose permissions.
    static func read(_ path: String) throws(Failure) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_mode & 0o077 != 0 { fchmod(fd, 0o600) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while bytes.count < 4096 {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        let token = trimmed(String(decoding: bytes, as: UTF8.self))
        return token.isEmpty ? nil : token
    }

    /// Writes the token to a temporary file with mode 0600 and renames it into place.
    static func store(_ token: String, at path: String) throws(Failure) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot store the internal token in \(path): \(reason)")
        }
    }

    /// Without leading and trailing whitespace.
    private static func trimmed(_ s: String) -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        var t = Substring(s)
        while let f = t.first, isSpace(f) { t = t.dropFirst() }
        while let l = t.last, isSpace(l) { t = t.dropLast() }
        return String(t)
    }
}
