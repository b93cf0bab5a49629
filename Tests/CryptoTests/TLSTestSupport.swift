import COpenSSL
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway CA and a "localhost" server certificate signed by it, made once per test run
/// with the `openssl` command-line tool in a temporary directory.
struct TLSFixture: Sendable {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var certificateFile: String { directory + "/server.pem" }
    var keyFile: String { directory + "/server.key" }

    static let shared: Result<TLSFixture, any Error> = Result { try make() }

    static func get() throws -> TLSFixture {
        // Writes to a vanished peer must fail with EPIPE instead of killing the test process
        // (the server side here uses OpenSSL's stock socket BIO).
        signal(SIGPIPE, SIG_IGN)
        return try shared.get()
    }

    private static func make() throws -> TLSFixture {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bulkhead-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + curve + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Bulkhead Test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ], in: directory)
        try openssl(
            ["req"] + curve + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            in: directory)
        try """
            subjectAltName=DNS:localhost,IP:127.0.0.1
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth

            """.write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        try openssl(
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "2",
                "-days", "2", "-extfile", "server.ext", "-out", "server.pem",
            ], in: directory)
        return TLSFixture(directory: directory)
    }

    /// Runs the openssl CLI to completion with posix_spawn + waitpid on that one pid.
    /// (Foundation's Process is avoided: its shared monitor thread can be stuck in another
    /// test's wait4, which would stall this one.)
    private static func openssl(_ arguments: [String], in directory: String) throws {
        let log = directory + "/openssl.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // cd through the shell: posix_spawn's chdir action is a GNU extension Glibc's module hides.
        let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let words: [String] = ["/bin/sh", "-c", "cd '\(directory)' && exec /usr/bin/openssl \(quoted)"]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp)
        guard rc == 0 else { throw TestFailure("cannot start openssl: \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TestFailure("openssl \(arguments.joined(separator: " ")) failed: \(text)")
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A one-connection TLS server on 127.0.0.1 with blocking sockets on a background thread.
/// It accepts one client, reads one chunk, echoes it, then closes (cleanly or abruptly).
struct EchoServer: Sendable {
    enum Ending: Sendable { case closeNotify, abrupt }

    let port: UInt16

    init(fixture: TLSFixture, ending: Ending = .closeNotify) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw TestFailure("socket failed") }
        var address = Sockets.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 4) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw TestFailure("bind/listen failed: \(errno)")
        }
        port = UInt16(bigEndian: address.sin_port)
        let certificate = fixture.certificateFile
        let key = fixture.keyFile
        let thread = Thread {
            Self.serve(listener: listener, certificate: certificate, key: key, ending: ending)
        }
        thread.start()
    }

    private static func serve(listener: Int32, certificate: String, key: String, ending: Ending) {
        defer { close(listener) }
        var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, 3000) == 1 else { return }
        let client = accept(listener, nil, nil)
        guard client >= 0 else { return }
        defer { close(client) }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        guard let ctx = SSL_CTX_new(TLS_server_method()) else { return }
        defer { SSL_CTX_free(ctx) }
        guard SSL_CTX_use_certificate_chain_file(ctx, certificate) == 1,
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1,
            let ssl = SSL_new(ctx)
        else { return }
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, client)
        guard SSL_accept(ssl) == 1 else { return }  // Expected when the client rejects us.

        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
        guard count > 0 else { return }
        _ = buffer.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, count) }
        if ending == .closeNotify { SSL_shutdown(ssl) }
    }
}

/// Non-blocking client socket helpers.
enum Sockets {
    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Connects a non-blocking socket to 127.0.0.1:`port` and waits (poll) until it is connected.
    static func connectNonBlocking(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            guard errno == EINPROGRESS, wait(fd, for: .wantWrite) else {
                close(fd)
                throw TestFailure("connect failed: \(errno)")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                close(fd)
                throw TestFailure("connect failed: \(error)")
            }
        }
        return fd
    }

    /// Waits up to 3 s for the readiness a `.wantRead`/`.wantWrite` asks for.
    static func wait(_ fd: Int32, for want: TLSIOResultWant) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(want == .wantRead ? POLLIN : POLLOUT), revents: 0)
        return poll(&descriptor, 1, 3000) == 1
    }
}

enum TLSIOResultWant { case wantRead, wantWrite }
