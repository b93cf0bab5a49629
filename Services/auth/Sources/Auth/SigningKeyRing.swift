import BulkheadAuth
import BulkheadCrypto
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// auth's Ed25519 signing keys: one active key signs; retired keys stay in the JWKS until every
/// token they signed has expired (`retention` = access-token lifetime plus verifier leeway),
/// then are deleted. Private keys live in `directory/<kid>.pem`, created with mode 0600 in a
/// 0700 directory; their lifecycle (created, retired) lives in the database.
final class SigningKeyRing: Sendable {
    private struct Key {
        var record: SigningKeyRecord
        var privateKey: Ed25519PrivateKey
    }

    let directory: String
    /// Seconds a retired key keeps verifying.
    let retention: Int64
    private let store: AuthStore
    private let keys: Mutex<[Key]>

    /// Loads the keys on disk; generates the first key when there is none (or the active one's file is gone).
    init(directory: String, store: AuthStore, retention: Int64, now: Int64) throws {
        self.directory = directory
        self.store = store
        self.retention = retention
        try Self.makeDirectory(directory)
        var loaded: [Key] = []
        for record in try store.signingKeys() {
            let path = Self.path(directory, record.kid)
            let expired = record.retiredAt.map { $0 + retention < now } ?? false
            guard !expired, let pem = try? String(contentsOfFile: path, encoding: .utf8),
                let key = try? Ed25519PrivateKey(pemRepresentation: pem)
            else {
                try? FileManager.default.removeItem(atPath: path)
                try store.deleteSigningKey(kid: record.kid)
                continue
            }
            loaded.append(Key(record: record, privateKey: key))
        }
        keys = Mutex(loaded)
        if !loaded.contains(where: { $0.record.retiredAt == nil }) { _ = try rotate(now: now) }
    }

    /// Generates a key, makes it the signer and retires the previous one. Returns the new `kid`.
    func rotate(now: Int64) throws -> String {
        let kid = "k" + String(now, radix: 36) + "-" + Hex.encode(SecureRandom.bytes(count: 4))
        let key = try Ed25519PrivateKey.generate()
        try Self.writePrivate(try key.pemRepresentation(), to: Self.path(directory, kid))
        try store.activateSigningKey(kid: kid, now: now)
        keys.withLock { keys in
            for i in keys.indices where keys[i].record.retiredAt == nil { keys[i].record.retiredAt = now }
            keys.append(Key(record: SigningKeyRecord(kid: kid, createdAt: now, retiredAt: nil), privateKey: key))
        }
        prune(now: now)
        return kid
    }

    /// The key that signs new tokens.
    func signer() -> (kid: String, key: Ed25519PrivateKey)? {
        keys.withLock { keys in
            keys.last(where: { $0.record.retiredAt == nil }).map { ($0.record.kid, $0.privateKey) }
        }
    }

    /// Every key that may still have valid tokens: the active one and recently retired ones.
    func jwks(now: Int64) -> JSONWebKeySet {
        let retention = self.retention
        return keys.withLock { keys in
            JSONWebKeySet(keys: keys.filter { ($0.record.retiredAt.map { $0 + retention >= now }) ?? true }
                .map { JSONWebKey(kid: $0.record.kid, publicKey: $0.privateKey.publicKey) })
        }
    }

    /// Deletes retired keys whose tokens have all expired.
    func prune(now: Int64) {
        let retention = self.retention
        let gone = keys.withLock { keys -> [String] in
            let old = keys.filter { ($0.record.retiredAt.map { $0 + retention < now }) ?? false }.map(\.record.kid)
            keys.removeAll { old.contains($0.record.kid) }
            return old
        }
        for kid in gone {
            try? FileManager.default.removeItem(atPath: Self.path(directory, kid))
            try? store.deleteSigningKey(kid: kid)
        }
    }

    static func path(_ directory: String, _ kid: String) -> String { directory + "/" + kid + ".pem" }

    private static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = chmod(path, 0o700)
    }

    /// Writes a secret file that is never readable by others, not even for an instant:
    /// created 0600 with O_EXCL, then fsynced.
    private static func writePrivate(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CryptoError("cannot create \(path): errno \(errno)") }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CryptoError("cannot write \(path): errno \(errno)") }
            written += n
        }
        guard fsync(fd) == 0 else { throw CryptoError("cannot fsync \(path): errno \(errno)") }
    }
}
