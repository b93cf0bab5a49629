import Testing
import Synchronization
import BulkheadHTTP
import BulkheadCrypto
import COpenSSL
@testable import BulkheadHTTPClient
#if canImport(Glibc)
import Glibc
#endif

// HTTPClient against a small test-only HTTP/1.1 server on plain blocking sockets (one thread
// per connection) bound to 127.0.0.1 port 0, with an optional TLS mode (OpenSSL, certificates
// made with the openssl CLI). The real server module is not used on purpose.

// MARK: - Threads and small sync helpers

/// Runs `body` on a new detached thread.
private func spawnThread(_ body: @escaping @Sendable () -> Void) {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var tid = pthread_t()
    let rc = pthread_create(&tid, nil, { arg in
        guard let arg else { return nil }
        Unmanaged<Box>.fromOpaque(arg).takeRetainedValue().body()
        return nil
    }, box)
    if rc == 0 {
        pthread_detach(tid)
    } else {
        Unmanaged<Box>.fromOpaque(box).release()
    }
}

/// A one-shot flag a server thread can wait on with a timeout.
private final class Gate: Sendable {
    private let opened = Mutex(false)
    func open() { opened.withLock { $0 = true } }
    var isOpen: Bool { opened.withLock { $0 } }
    /// Waits (polling) until opened; false on timeout.
    func wait(seconds: Double) -> Bool {
        let deadline = now() + seconds
        while now() < deadline {
            if isOpen { return true }
            usleep(2_000)
        }
        return isOpen
    }
}

/// A value shared between tasks and threads.
private final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

private func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

private func sleepMs(_ ms: Int) { usleep(UInt32(ms) * 1000) }

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

// MARK: - TLS fixtures

/// A CA and a server certificate for `localhost` (DNS SAN only), made once per test process
/// with the openssl CLI in a temporary directory, loaded into a server context and a client
/// context trusting the CA, then deleted.
private enum TLSFixtures {
    struct Contexts: Sendable {
        let server: TestTLSServerContext
        let trustingClient: TLSClientContext
    }

    static let contexts: Result<Contexts, TestFailure> = make()

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
    }

    private static func make() -> Result<Contexts, TestFailure> {
        var template = Array("/tmp/bulkhead-client-tls-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else { return .failure(TestFailure(description: "mkdtemp failed")) }
        let dir = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { _ = system("rm -rf '\(dir)'") }
        let ext = "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        guard let f = fopen(dir + "/ext.cnf", "w") else { return .failure(TestFailure(description: "cannot write ext.cnf")) }
        fputs(ext, f)
        fclose(f)
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        let commands = [
            "openssl req -x509 \(ec) -keyout ca.key -out ca.pem -days 2 -subj '/CN=Bulkhead Test CA'"
                + " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
            "openssl req \(ec) -keyout server.key -out server.csr -subj '/CN=localhost'",
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf",
        ]
        for command in commands {
            let rc = system("cd '\(dir)' && \(command) >/dev/null 2>&1")
            if rc != 0 { return .failure(TestFailure(description: "'\(command)' failed (\(rc)); is the openssl CLI installed?")) }
        }
        do {
            let server = try TestTLSServerContext(certificate: dir + "/server.pem", key: dir + "/server.key")
            let client = try TLSClientContext(configuration: TLSClientConfiguration(additionalTrustedCAFile: dir + "/ca.pem"))
            return .success(Contexts(server: server, trustingClient: client))
        } catch {
            return .failure(TestFailure(description: "loading the test certificates failed: \(error)"))
        }
    }
}

/// A server-side OpenSSL context for the test server.
private final class TestTLSServerContext: @unchecked Sendable {
    // Safe because: configured once in init, then only used to create SSL objects (thread-safe in OpenSSL).
    let ctx: OpaquePointer

    init(certificate: String, key: String) throws {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSFixtures.TestFailure(description: "SSL_CTX_new") }
        guard SSL_CTX_use_certificate_chain_file(ctx, certificate) == 1,
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1
        else {
            SSL_CTX_free(ctx)
            throw TLSFixtures.TestFailure(description: "loading the test certificate failed")
        }
        self.ctx = ctx
    }

    deinit { SSL_CTX_free(ctx) }
}

// MARK: - Test server

/// A request as the test server parsed it.
private struct TestRequest: Sendable {
    var method: String
    var target: String
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// One accepted connection, used only by its own thread (plain fd or OpenSSL session on it).
private final class TestConnection: @unchecked Sendable {
    // Safe because: each connection is used by the one thread that serves it; `stop()` from
    // another thread only calls shutdown(2) on the fd, which is thread-safe.
    let fd: Int32
    let ssl: OpaquePointer?
    /// Requests served on this connection so far (before the current one).
    var served = 0
    /// The current request is HEAD: responses carry no body bytes.
    var answeringHEAD = false
    private var buffer: [UInt8] = []
    private(set) var broken = false

    init(fd: Int32, ssl: OpaquePointer?) {
        self.fd = fd
        self.ssl = ssl
    }

    private func readSome() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n: Int = chunk.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return -1 }
            if let ssl { return Int(SSL_read(ssl, base, Int32(raw.count))) }
            return recv(fd, base, raw.count, 0)
        }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Reads the next request; nil on EOF or error. Without `readBody`, the body is left unread.
    func readRequest(readBody: Bool = true) -> TestRequest? {
        while true {
            if let end = findHeadEnd() {
                let head = text(Array(buffer[0..<end]))
                buffer.removeFirst(end + 4)
                var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
                guard !lines.isEmpty else { return nil }
                let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
                guard requestLine.count == 3 else { return nil }
                var headers: [(String, String)] = []
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    let name = String(line[..<colon])
                    let value = String(line[line.index(after: colon)...]).trimmingCharacters(" ")
                    headers.append((name, value))
                }
                var request = TestRequest(method: requestLine[0], target: requestLine[1], headers: headers, body: [])
                let length = readBody ? Int(request.header("content-length") ?? "0") ?? 0 : 0
                while buffer.count < length {
                    if !readSome() { return nil }
                }
                request.body = Array(buffer[0..<length])
                buffer.removeFirst(length)
                return request
            }
            if !readSome() { return nil }
        }
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4)
        where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n: Int = bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return -1 }
                if let ssl { return Int(SSL_write(ssl, base + offset, Int32(raw.count - offset))) }
                return send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 {
                broken = true
                return false
            }
            offset += n
        }
        return true
    }

    @discardableResult
    func write(_ s: String) -> Bool { write(Array(s.utf8)) }

    /// A complete response with Content-Length.
    func respond(
        status: Int = 200, reason: String = "OK", headers: [(String, String)] = [], body: [UInt8] = [], close: Bool = false
    ) {
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Length: \(body.count)\r\n"
        for (n, v) in headers { head += "\(n): \(v)\r\n" }
        if close { head += "Connection: close\r\n" }
        head += "\r\n"
        write(Array(head.utf8) + (answeringHEAD ? [] : body))
    }

    func respond(status: Int = 200, body: String, close: Bool = false) {
        respond(status: status, body: Array(body.utf8), close: close)
    }

    func startChunked(contentType: String = "text/plain") {
        write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: \(contentType)\r\n\r\n")
    }

    func chunk(_ s: String) { chunk(Array(s.utf8)) }

    func chunk(_ bytes: [UInt8]) {
        write(Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10])
    }

    func endChunked() { write("0\r\n\r\n") }

    /// Half-closes, then reads and discards until the client closes (at most `seconds`), so
    /// that unread request bytes do not turn the close into a reset.
    func lingeringClose(seconds: Double = 2) {
        shutdown(fd, Int32(SHUT_WR))
        let deadline = now() + seconds
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while now() < deadline {
            if poll(&pfd, 1, 50) <= 0 { continue }
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(_ c: Character) -> String {
        var s = Substring(self)
        while s.first == c { s = s.dropFirst() }
        while s.last == c { s = s.dropLast() }
        return String(s)
    }
}

/// What a handler wants after answering one request.
private enum After {
    case keepOpen
    case close
}

/// A threaded HTTP/1.1 server on 127.0.0.1, port 0. Counts connections.
private final class TestServer: Sendable {
    typealias Handler = @Sendable (TestRequest, TestConnection) -> After

    private struct Counters {
        var accepted = 0
        var active = 0
        var maxActive = 0
        var requests = 0
        var closedByClient = 0
        var fds: [Int32] = []
    }

    let port: Int
    private let listenFD: Int32
    private let counters = Mutex(Counters())
    private let stopped = Mutex(false)

    init(
        tls: TestTLSServerContext? = nil, backlog: Int32 = 128, accepting: Bool = true, readsBodies: Bool = true,
        handler: @escaping Handler
    ) throws {
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TLSFixtures.TestFailure(description: "socket failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            close(fd)
            throw TLSFixtures.TestFailure(description: "bind/listen failed")
        }
        var out = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &out) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = Int(UInt16(bigEndian: out.sin_port))
        listenFD = fd
        if accepting {
            spawnThread { [self] in acceptLoop(tls: tls, readsBodies: readsBodies, handler: handler) }
        }
    }

    var accepted: Int { counters.withLock { $0.accepted } }
    var maxActive: Int { counters.withLock { $0.maxActive } }
    var requests: Int { counters.withLock { $0.requests } }
    var closedByClient: Int { counters.withLock { $0.closedByClient } }

    func url(_ path: String, host: String = "127.0.0.1", scheme: String = "http") -> String {
        "\(scheme)://\(host):\(port)\(path)"
    }

    private func acceptLoop(tls: TestTLSServerContext?, readsBodies: Bool, handler: @escaping Handler) {
        while !stopped.withLock({ $0 }) {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            counters.withLock {
                $0.accepted += 1
                $0.fds.append(client)
            }
            spawnThread { [self] in serve(client, tls: tls, readsBodies: readsBodies, handler: handler) }
        }
    }

    private func serve(_ fd: Int32, tls: TestTLSServerContext?, readsBodies: Bool, handler: Handler) {
        var ssl: OpaquePointer?
        defer {
            if let ssl { SSL_free(ssl) }
            counters.withLock { c in
                c.fds.removeAll { $0 == fd }
            }
            close(fd)
        }
        if let tls {
            guard let s = SSL_new(tls.ctx) else { return }
            ssl = s
            SSL_set_fd(s, fd)
            guard SSL_accept(s) == 1 else { return }
        }
        counters.withLock { c in
            c.active += 1
            c.maxActive = max(c.maxActive, c.active)
        }
        defer { counters.withLock { $0.active -= 1 } }
        let connection = TestConnection(fd: fd, ssl: ssl)
        while true {
            guard let request = connection.readRequest(readBody: readsBodies) else {
                counters.withLock { $0.closedByClient += 1 }
                return
            }
            counters.withLock { $0.requests += 1 }
            connection.answeringHEAD = request.method == "HEAD"
            let after = handler(request, connection)
            connection.served += 1
            if case .close = after { return }
            if connection.broken { return }
        }
    }

    func stop() {
        stopped.withLock { $0 = true }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        let fds = counters.withLock { $0.fds }
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
    }
}

/// The standard routes most tests use.
private func standardRoutes(_ request: TestRequest, _ c: TestConnection) -> After {
    let path = request.target.split(separator: "?").first.map(String.init) ?? request.target
    switch path {
    case "/hello":
        c.respond(body: "hello")
    case "/echo":
        // Echoes what the client sent, so tests can check the request encoding.
        var lines = ["\(request.method) \(request.target)"]
        for (n, v) in request.headers { lines.append("\(n.lowercased()): \(v)") }
        lines.append("")
        c.respond(headers: [("Content-Type", "text/plain")], body: Array(lines.joined(separator: "\n").utf8) + request.body)
    case "/close":
        c.respond(body: "bye", close: true)
        return .close
    case "/until-close":
        // No Content-Length, no chunking: the body ends when the connection closes.
        c.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ")
        sleepMs(20)
        c.write("part two")
        return .close
    case "/slow":
        sleepMs(1500)
        c.respond(body: "late")
    case "/big":
        c.respond(body: [UInt8](repeating: 0x61, count: 100_000))
    case "/big-chunked":
        c.startChunked()
        for _ in 0..<10 { c.chunk([UInt8](repeating: 0x62, count: 10_000)) }
        c.endChunked()
    case "/status/404":
        c.respond(status: 404, reason: "Not Found", body: Array("missing".utf8))
    case "/interim":
        c.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n")
        c.respond(body: "final")
    case "/stall-body":
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst")
        sleepMs(3000)
        return .close
    default:
        c.respond(status: 404, reason: "Not Found", body: [])
    }
    return .keepOpen
}

/// Runs `body` with a fresh client and always shuts it down.
private func withClient<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ configure: (inout HTTPClient.Configuration) -> Void = { _ in },
    _ body: (HTTPClient) async throws -> T
) async throws -> T {
    var config = HTTPClient.Configuration()
    config.requestTimeout = .seconds(20)
    configure(&config)
    let client = try HTTPClient(configuration: config)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// The `HTTPClientError` kind thrown by `body`, or nil if it did not throw one.
private func errorKind(_ body: () async throws -> Void) async -> HTTPClientError.Kind? {
    do {
        try await body()
        return nil
    } catch let error as HTTPClientError {
        return error.kind
    } catch {
        return nil
    }
}

// MARK: - Tests

@Suite("HTTPClient", .serialized)
struct ClientTests {
    // MARK: Basics

    @Test func getRoundtrip() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            let response = try await client.get(server.url("/hello"))
            #expect(response.status == .ok)
            #expect(response.headers["content-length"] == "5")
            #expect(text(try await response.body.collect(upTo: 1024)) == "hello")
        }
    }

    @Test func postRoundtripSendsHostLengthAgentAndTraceparent() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient({ $0.userAgent = "bulkhead-test/1" }) { client in
            let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let response = try await client.post(
                server.url("/echo?x=1"), json: Array(#"{"a":1}"#.utf8), headers: ["X-Custom": "yes"], traceparent: trace)
            let echoed = text(try await response.body.collect())
            #expect(echoed.hasPrefix("POST /echo?x=1\n"))
            #expect(echoed.contains("host: 127.0.0.1:\(server.port)\n"))
            #expect(echoed.contains("content-length: 7\n"))
            #expect(echoed.contains("content-type: application/json\n"))
            #expect(echoed.contains("user-agent: bulkhead-test/1\n"))
            #expect(echoed.contains("x-custom: yes\n"))
            #expect(echoed.contains("traceparent: \(trace)\n"))
            #expect(echoed.hasSuffix("\n" + #"{"a":1}"#))
        }
    }

    @Test func callerTraceparentHeaderIsKept() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            let response = try await client.get(server.url("/echo"), headers: ["traceparent": "00-aa-bb-01"])
            let echoed = text(try await response.body.collect())
            #expect(echoed.contains("traceparent: 00-aa-bb-01\n"))
            #expect(echoed.contains("user-agent: bulkhead-http-client/1.0\n"))
            #expect(!echoed.contains("content-length"))  // GET without a body
        }
    }

    @Test func localhostNameAndNon200Status() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            let response = try await client.get(server.url("/status/404", host: "localhost"))
            #expect(response.status.code == 404)
            #expect(response.status.reason == "Not Found")
            #expect(text(try await response.body.collect()) == "missing")
        }
    }

    @Test func headRequestHasNoBodyAndKeepsConnection() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            let head = try await client.execute(HTTPClientRequest(method: .head, url: server.url("/big")))
            #expect(head.headers["content-length"] == "100000")
            #expect(try await head.body.collect().isEmpty)
            let after = try await client.get(server.url("/hello"))
            #expect(text(try await after.body.collect()) == "hello")
            #expect(server.accepted == 1)
        }
    }

    @Test func interimResponsesAreSkipped() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            let response = try await client.get(server.url("/interim"))
            #expect(response.status == .ok)
            #expect(text(try await response.body.collect()) == "final")
        }
    }

    @Test func readUntilCloseBodyIsReadAndConnectionNotReused() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            let response = try await client.get(server.url("/until-close"))
            #expect(text(try await response.body.collect()) == "part one, part two")
            let again = try await client.get(server.url("/hello"))
            #expect(text(try await again.body.collect()) == "hello")
            #expect(server.accepted == 2)
        }
    }

    // MARK: Streaming

    @Test func chunkedBodyIsStreamed() async throws {
        let firstSeen = Gate()
        let secondSent = Gate()
        let server = try TestServer { _, c in
            c.startChunked()
            c.chunk("first")
            // The rest is only sent once the client has seen the first chunk (or after 5 s).
            _ = firstSeen.wait(seconds: 5)
            sleepMs(50)
            c.chunk("second")
            secondSent.open()
            sleepMs(50)
            c.chunk("third")
            c.endChunked()
            return .keepOpen
        }
        defer { server.stop() }
        try await withClient { client in
            let response = try await client.get(server.url("/stream"))
            var chunks: [String] = []
            var sawFirstBeforeSecondWasSent = false
            for try await chunk in response.body {
                if chunks.isEmpty {
                    sawFirstBeforeSecondWasSent = !secondSent.isOpen
                    firstSeen.open()
                }
                chunks.append(text(chunk))
            }
            #expect(sawFirstBeforeSecondWasSent)
            #expect(chunks.joined() == "firstsecondthird")
            #expect(chunks.first == "first")
        }
    }

    @Test func backpressureStopsReadingWhileTheConsumerIsBehind() async throws {
        let total = 64 << 20
        let written = Locked(0)
        let server = try TestServer { _, c in
            c.write("HTTP/1.1 200 OK\r\nContent-Length: \(total)\r\n\r\n")
            let block = [UInt8](repeating: 0x7A, count: 64 * 1024)
            var sent = 0
            while sent < total {
                guard c.write(block) else { break }
                sent += block.count
                written.withLock { $0 = sent }
            }
            return .keepOpen
        }
        defer { server.stop() }
        try await withClient({ $0.responseBufferBytes = 128 * 1024 }) { client in
            let response = try await client.get(server.url("/firehose"))
            var iterator = response.body.makeAsyncIterator()
            var received = try await iterator.next()?.count ?? 0
            // Do not consume for a while: the server must block on full socket buffers.
            try await Task.sleep(for: .milliseconds(400))
            let sentWhileStalled = written.value
            #expect(sentWhileStalled < total / 2, "server wrote \(sentWhileStalled) bytes while the client was not reading")
            while let chunk = try await iterator.next() { received += chunk.count }
            #expect(received == total)
        }
    }

    @Test func serverSentEventsEndToEnd() async throws {
        let server = try TestServer { _, c in
            c.startChunked(contentType: "text/event-stream")
            c.chunk(": hello\n\nevent: delta\nid: 1\ndata: {\"t\":\"He")
            sleepMs(20)
            c.chunk("\"}\n\ndata: line1\r\ndata: line2\r")
            sleepMs(20)
            c.chunk("\n\r\ndata: [DONE]\n\ndata: never dispatched")
            c.endChunked()
            return .keepOpen
        }
        defer { server.stop() }
        try await withClient { client in
            var request = HTTPClientRequest(method: .post, url: server.url("/v1/chat/completions"))
            request.headers.add(name: "Accept", value: "text/event-stream")
            request.body = Array(#"{"stream":true}"#.utf8)
            let response = try await client.execute(request, timeout: nil)
            #expect(response.headers["content-type"] == "text/event-stream")
            var received: [ServerSentEvent] = []
            for try await event in response.body.serverSentEvents() { received.append(event) }
            #expect(received == [
                ServerSentEvent(id: "1", event: "delta", data: #"{"t":"He"}"#),
                ServerSentEvent(id: "1", data: "line1\nline2"),
                ServerSentEvent(id: "1", data: "[DONE]"),
            ])
        }
    }

    // MARK: Pooling

    @Test func sequentialRequestsReuseOneConnection() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            for i in 0..<10 {
                let response = try await client.get(server.url("/hello?i=\(i)"))
                #expect(text(try await response.body.collect()) == "hello")
            }
            #expect(server.accepted == 1)
            #expect(server.requests == 10)
            let stats = try await client.poolStatistics(for: server.url("/"))
            #expect(stats.open == 1 && stats.idle == 1 && stats.waiting == 0)
        }
    }

    @Test func chunkedAndLargeBodiesAlsoReuse() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            for path in ["/big-chunked", "/big", "/big-chunked"] {
                let body = try await client.get(server.url(path)).body.collect()
                #expect(body.count == 100_000)
            }
            #expect(server.accepted == 1)
        }
    }

    @Test func connectionCloseIsNotReused() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            for _ in 0..<3 {
                #expect(text(try await client.get(server.url("/close")).body.collect()) == "bye")
            }
            #expect(server.accepted == 3)
            // A request asking for close is not reused either.
            var request = HTTPClientRequest(url: server.url("/hello"))
            request.headers.add(name: "Connection", value: "close")
            _ = try await client.execute(request).body.collect()
            _ = try await client.get(server.url("/hello")).body.collect()
            #expect(server.accepted == 5)
        }
    }

    @Test func maxConnectionsPerHostIsRespected() async throws {
        let server = try TestServer { _, c in
            sleepMs(40)
            c.respond(body: "ok")
            return .keepOpen
        }
        defer { server.stop() }
        try await withClient({ $0.maxConnectionsPerHost = 4 }) { client in
            let url = server.url("/work")
            let results = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask { text(try await client.get(url).body.collect()) }
                }
                var all: [String] = []
                for try await r in group { all.append(r) }
                return all
            }
            #expect(results.count == 20)
            #expect(results.allSatisfy { $0 == "ok" })
            #expect(server.accepted == 4)
            #expect(server.maxActive <= 4)
            let stats = try await client.poolStatistics(for: url)
            #expect(stats.open == 4 && stats.idle == 4 && stats.waiting == 0)
        }
    }

    @Test func waitersAreServedFirstComeFirstServed() async throws {
        let server = try TestServer { request, c in
            sleepMs(30)
            c.respond(body: request.target)
            return .keepOpen
        }
        defer { server.stop() }
        try await withClient({ $0.maxConnectionsPerHost = 1 }) { client in
            let order = Locked<[Int]>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<6 {
                    group.addTask {
                        let body = text(try await client.get(server.url("/\(i)")).body.collect())
                        order.withLock { $0.append(Int(body.dropFirst()) ?? -1) }
                    }
                    // Let each request reach the queue before the next one starts.
                    try await Task.sleep(for: .milliseconds(5))
                }
                try await group.waitForAll()
            }
            #expect(order.value == [0, 1, 2, 3, 4, 5])
            #expect(server.accepted == 1)
        }
    }

    @Test func idleConnectionClosedByServerIsDropped() async throws {
        let server = try TestServer { _, c in
            c.respond(body: "once")  // keep-alive announced, then the server closes anyway
            sleepMs(20)
            return .close
        }
        defer { server.stop() }
        try await withClient { client in
            _ = try await client.get(server.url("/a")).body.collect()
            try await Task.sleep(for: .milliseconds(200))
            let stats = try await client.poolStatistics(for: server.url("/"))
            #expect(stats.open == 0, "the closed idle connection should have been dropped")
            #expect(text(try await client.get(server.url("/b")).body.collect()) == "once")
            #expect(server.accepted == 2)
        }
    }

    @Test func idleTimeoutClosesPooledConnections() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient({ $0.idleTimeout = .milliseconds(100) }) { client in
            _ = try await client.get(server.url("/hello")).body.collect()
            #expect(try await client.poolStatistics(for: server.url("/")).idle == 1)
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await client.poolStatistics(for: server.url("/")).open == 0)
            // The server saw the client close it.
            #expect(server.closedByClient == 1)
        }
    }

    @Test func staleReusedConnectionIsRetriedForIdempotentRequests() async throws {
        // The server answers the first request of each connection with keep-alive, and
        // drops the connection without answering any later one: the client's write succeeds
        // on the reused connection, then it reads EOF before any response byte.
        let server = try TestServer { _, c in
            if c.served > 0 { return .close }
            c.respond(body: "fresh")
            return .keepOpen
        }
        defer { server.stop() }
        try await withClient { client in
            #expect(text(try await client.get(server.url("/1")).body.collect()) == "fresh")
            #expect(text(try await client.get(server.url("/2")).body.collect()) == "fresh")
            #expect(server.accepted == 2)
            let delete = try await client.execute(HTTPClientRequest(method: .delete, url: server.url("/3")))
            #expect(text(try await delete.body.collect()) == "fresh")
            #expect(server.accepted == 3)
            // POST is not idempotent: not retried.
            let kind = await errorKind { _ = try await client.post(server.url("/4"), json: Array("{}".utf8)) }
            #expect(kind == .connectionClosed)
            #expect(server.accepted == 3)
        }
    }

    @Test func retryHappensOnlyOnce() async throws {
        // Only the very first request is answered; every later one is dropped unanswered: the
        // second request fails on its reused connection, is retried once on a fresh one, which
        // drops it too, and then the error surfaces.
        let answeredOnce = Gate()
        let server = try TestServer { _, c in
            if !answeredOnce.isOpen {
                answeredOnce.open()
                c.respond(body: "first")
                return .keepOpen
            }
            return .close
        }
        defer { server.stop() }
        try await withClient { client in
            _ = try await client.get(server.url("/1")).body.collect()
            let kind = await errorKind { _ = try await client.get(server.url("/2")).body.collect() }
            #expect(kind == .connectionClosed)
            #expect(server.accepted == 2)
        }
    }

    // MARK: Failures and timeouts

    @Test func connectionRefused() async throws {
        // Bind a port, then close it: nobody listens there.
        let server = try TestServer(accepting: false) { _, _ in .close }
        let url = server.url("/")
        server.stop()
        try await withClient { client in
            do {
                _ = try await client.get(url)
                Issue.record("expected a connect failure")
            } catch let error as HTTPClientError {
                #expect(error.kind == .connectFailed)
                #expect(error.message.contains("refused"))
            }
        }
    }

    @Test func connectTimeout() async throws {
        // A listener that never accepts, with its queue filled: further SYNs are dropped.
        let server = try TestServer(backlog: 0, accepting: false) { _, _ in .close }
        defer { server.stop() }
        var fillers: [Int32] = []
        defer { for fd in fillers { close(fd) } }
        for _ in 0..<4 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(server.port).bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(fd)
        }
        sleepMs(50)
        try await withClient({ $0.connectTimeout = .milliseconds(300) }) { client in
            let start = now()
            let kind = await errorKind { _ = try await client.get(server.url("/")) }
            let elapsed = now() - start
            #expect(kind == .connectTimeout)
            #expect(elapsed >= 0.25 && elapsed < 2, "took \(elapsed) s")
        }
    }

    @Test func requestTimeoutWaitingForTheHead() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            let start = now()
            let kind = await errorKind {
                _ = try await client.execute(HTTPClientRequest(url: server.url("/slow")), timeout: .milliseconds(200))
            }
            #expect(kind == .timeout)
            #expect(now() - start < 1.2)
            // The client still works; the timed-out connection was closed, not reused.
            let after = text(try await client.get(server.url("/hello")).body.collect())
            #expect(after == "hello")
            #expect(server.accepted == 2)
        }
    }

    @Test func configuredRequestTimeoutCoversTheBody() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient({ $0.requestTimeout = .milliseconds(300) }) { client in
            let response = try await client.get(server.url("/stall-body"))
            let start = now()
            do {
                _ = try await response.body.collect()
                Issue.record("expected a timeout")
            } catch let error as HTTPClientError {
                #expect(error.kind == .timeout)
                #expect(error.message.contains("body"))
            }
            #expect(now() - start < 2)
        }
    }

    @Test func serverClosingMidBodyIsAnError() async throws {
        let server = try TestServer { _, c in
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
            return .close
        }
        defer { server.stop() }
        try await withClient { client in
            let response = try await client.get(server.url("/"))
            let kind = await errorKind { _ = try await response.body.collect() }
            #expect(kind == .connectionClosed)
        }
    }

    @Test func malformedResponse() async throws {
        let server = try TestServer { _, c in
            c.write("HTTP/1.1 OK\r\n\r\n")
            return .close
        }
        defer { server.stop() }
        try await withClient { client in
            let kind = await errorKind { _ = try await client.get(server.url("/")) }
            #expect(kind == .malformedResponse)
        }
    }

    @Test func responseHeadTooLarge() async throws {
        let server = try TestServer { _, c in
            c.respond(headers: [("X-Big", String(repeating: "h", count: 4000))], body: [])
            return .keepOpen
        }
        defer { server.stop() }
        try await withClient({ $0.maxResponseHeadBytes = 1024 }) { client in
            let kind = await errorKind { _ = try await client.get(server.url("/")) }
            #expect(kind == .responseTooLarge)
        }
    }

    @Test func collectEnforcesItsLimit() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient({ $0.maxCollectBytes = 50_000 }) { client in
            // Known length: refused up front.
            let big = try await client.get(server.url("/big"))
            do {
                _ = try await big.body.collect(upTo: 1000)
                Issue.record("expected responseTooLarge")
            } catch let error as HTTPClientError {
                #expect(error.kind == .responseTooLarge)
                #expect(error.message.contains("1000"))
            }
            // Unknown length: refused while reading; the configured default applies.
            let chunked = try await client.get(server.url("/big-chunked"))
            let kind = await errorKind { _ = try await chunked.body.collect() }
            #expect(kind == .responseTooLarge)
            // Within the limit.
            #expect(try await client.get(server.url("/big")).body.collect(upTo: 100_000).count == 100_000)
        }
    }

    @Test func cancellationWhileWaitingForTheHead() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            let task = Task { try await client.get(server.url("/slow")) }
            try await Task.sleep(for: .milliseconds(150))
            let start = now()
            task.cancel()
            do {
                _ = try await task.value
                Issue.record("expected cancellation")
            } catch let error as HTTPClientError {
                #expect(error.kind == .cancelled)
            }
            #expect(now() - start < 0.5)
            // The connection was closed, so the pool is empty again.
            #expect(try await client.poolStatistics(for: server.url("/")).open == 0)
        }
    }

    @Test func cancellationWhileStreamingTheBody() async throws {
        let writeFailed = Gate()
        let server = try TestServer { _, c in
            c.startChunked()
            for i in 0..<100 {
                guard c.write(Array("3\r\n\(i % 10)ab\r\n".utf8)) else {
                    writeFailed.open()
                    return .close
                }
                sleepMs(30)
            }
            c.endChunked()
            return .keepOpen
        }
        defer { server.stop() }
        try await withClient { client in
            let response = try await client.get(server.url("/"))
            let task = Task {
                var n = 0
                for try await _ in response.body { n += 1 }
                return n
            }
            try await Task.sleep(for: .milliseconds(150))
            task.cancel()
            let kind = await errorKind { _ = try await task.value }
            #expect(kind == .cancelled)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await client.poolStatistics(for: server.url("/")).open == 0)
            // The server's next writes fail: the client closed the socket.
            #expect(writeFailed.wait(seconds: 2))
        }
    }

    @Test func droppingAnUnreadBodyClosesTheConnection() async throws {
        let server = try TestServer { _, c in
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            c.write([UInt8](repeating: 1, count: 1000))
            sleepMs(2000)
            return .close
        }
        defer { server.stop() }
        try await withClient { client in
            do {
                let response = try await client.get(server.url("/"))
                #expect(response.status == .ok)
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await client.poolStatistics(for: server.url("/")).open == 0)
        }
    }

    @Test func shutdownFailsInFlightAndLaterRequests() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        let client = try HTTPClient()
        let inFlight = Task { try await client.get(server.url("/slow")) }
        try await Task.sleep(for: .milliseconds(150))
        await client.shutdown()
        let kind = await errorKind { _ = try await inFlight.value }
        #expect(kind == .shutdown)
        let later = await errorKind { _ = try await client.get(server.url("/hello")) }
        #expect(later == .shutdown)
        await client.shutdown()  // idempotent
    }

    // MARK: Requests and URLs

    @Test func invalidURLs() async throws {
        let bad = [
            "example.com/path", "ftp://example.com/", "http://", "http:///path", "http://host:0/", "http://host:65536/",
            "http://host:12ab/", "http://user:pass@host/", "http://[::1/", "http://exa mple.com/", "http://host/\r\nX: y",
        ]
        for url in bad {
            #expect(throws: HTTPClientError.self, "\(url)") { _ = try HTTPClientURL(url) }
        }
        try await withClient { client in
            let kind = await errorKind { _ = try await client.get("nope://x") }
            #expect(kind == .invalidURL)
        }
    }

    @Test func urlParsing() throws {
        let a = try HTTPClientURL("HTTPS://API.Example.com/v1/chat?stream=true#frag")
        #expect(a.scheme == .https && a.host == "api.example.com" && a.port == 443 && a.target == "/v1/chat?stream=true")
        #expect(a.hostHeader == "api.example.com")
        let b = try HTTPClientURL("http://127.0.0.1:8080")
        #expect(b.port == 8080 && b.target == "/" && b.hostHeader == "127.0.0.1:8080")
        let c = try HTTPClientURL("http://[::1]:9000/x")
        #expect(c.host == "::1" && c.port == 9000 && c.hostHeader == "[::1]:9000")
        let d = try HTTPClientURL("http://h?q=1")
        #expect(d.target == "/?q=1" && d.port == 80)
        let e = try HTTPClientURL("http://h/a b/é")
        #expect(e.target == "/a%20b/%C3%A9")
        let f = try HTTPClientURL("https://h:443/")
        #expect(f.hostHeader == "h")
    }

    @Test func headerInjectionIsRefused() async throws {
        try await withClient { client in
            var request = HTTPClientRequest(url: "http://127.0.0.1:1/")
            request.headers.add(name: "X-Evil", value: "a\r\nInjected: yes")
            let kind = await errorKind { _ = try await client.execute(request) }
            #expect(kind == .invalidRequest)
            var badName = HTTPClientRequest(url: "http://127.0.0.1:1/")
            badName.headers.add(name: "Bad Name", value: "x")
            #expect(await errorKind { _ = try await client.execute(badName) } == .invalidRequest)
        }
    }

    @Test func resolverUsesGetaddrinfoAndLocalhostShortcut() {
        #expect(AddressResolver.immediate("localhost")?.first?.ip == "127.0.0.1")
        #expect(AddressResolver.immediate("10.1.2.3") == [ResolvedAddress(family: 4, ip: "10.1.2.3")])
        #expect(AddressResolver.immediate("::1") == [ResolvedAddress(family: 6, ip: "::1")])
        #expect(AddressResolver.immediate("example.com") == nil)
        // /etc/hosts, through getaddrinfo.
        if case .success(let list) = AddressResolver.getAddresses("localhost") {
            #expect(list.contains { $0.ip == "127.0.0.1" || $0.ip == "::1" })
        } else {
            Issue.record("getaddrinfo(localhost) failed")
        }
    }

    // MARK: More edge cases

    @Test func earlyResponseWhileTheRequestBodyIsStillBeingSent() async throws {
        let server = try TestServer(readsBodies: false) { _, c in
            c.respond(status: 413, reason: "Content Too Large", body: Array("too big".utf8), close: true)
            c.lingeringClose()
            return .close
        }
        defer { server.stop() }
        try await withClient { client in
            let upload = [UInt8](repeating: 0x55, count: 16 << 20)
            let response = try await client.execute(HTTPClientRequest(method: .put, url: server.url("/upload"), body: upload))
            #expect(response.status.code == 413)
            #expect(text(try await response.body.collect()) == "too big")
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await client.poolStatistics(for: server.url("/")).open == 0)
        }
    }

    @Test func timeoutWhileWaitingForAPooledConnection() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient({ $0.maxConnectionsPerHost = 1 }) { client in
            let busy = Task { try await client.get(server.url("/slow")).body.collect() }
            try await Task.sleep(for: .milliseconds(100))
            do {
                _ = try await client.execute(HTTPClientRequest(url: server.url("/hello")), timeout: .milliseconds(200))
                Issue.record("expected a timeout")
            } catch let error as HTTPClientError {
                #expect(error.kind == .timeout)
                #expect(error.message.contains("waiting for a connection"))
            }
            #expect(try await client.poolStatistics(for: server.url("/")).waiting == 0)
            #expect(text(try await busy.value) == "late")
            #expect(server.accepted == 1)
        }
    }

    @Test func cancellationWhileQueued() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient({ $0.maxConnectionsPerHost = 1 }) { client in
            let busy = Task { try await client.get(server.url("/slow")).body.collect() }
            try await Task.sleep(for: .milliseconds(100))
            let queued = Task { try await client.get(server.url("/hello")) }
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await client.poolStatistics(for: server.url("/")).waiting == 1)
            queued.cancel()
            #expect(await errorKind { _ = try await queued.value } == .cancelled)
            #expect(try await client.poolStatistics(for: server.url("/")).waiting == 0)
            #expect(text(try await busy.value) == "late")
        }
    }

    @Test func http10ResponsesAreNotReusedUnlessKeepAlive() async throws {
        let server = try TestServer { request, c in
            if request.target == "/ka" {
                c.write("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nka")
                return .keepOpen
            }
            c.write("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nplain")
            return .close
        }
        defer { server.stop() }
        try await withClient { client in
            let plain = text(try await client.get(server.url("/plain")).body.collect())
            let ka1 = text(try await client.get(server.url("/ka")).body.collect())
            let ka2 = text(try await client.get(server.url("/ka")).body.collect())
            #expect(plain == "plain" && ka1 == "ka" && ka2 == "ka")
            #expect(server.accepted == 2)
        }
    }

    @Test func inMemoryBodyForTestDoubles() async throws {
        let response = HTTPClientResponse(status: .ok, body: HTTPClientResponseBody(bytes: Array("data: x\n\n".utf8)))
        var events: [ServerSentEvent] = []
        for try await event in response.body.serverSentEvents() { events.append(event) }
        #expect(events == [ServerSentEvent(data: "x")])
        let empty = HTTPClientResponseBody(bytes: [])
        #expect(try await empty.collect().isEmpty)
    }

    @MainActor
    @Test func consumingFromTheMainActor() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        try await withClient { client in
            let response = try await client.get(server.url("/big-chunked"))
            var total = 0
            for try await chunk in response.body { total += chunk.count }
            #expect(total == 100_000)
        }
    }

    @Test func manyConcurrentRequestsOverTwoHosts() async throws {
        let a = try TestServer(handler: standardRoutes)
        let b = try TestServer(handler: standardRoutes)
        defer {
            a.stop()
            b.stop()
        }
        try await withClient({ $0.maxConnectionsPerHost = 8 }) { client in
            let ok = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<200 {
                    let server = i % 2 == 0 ? a : b
                    group.addTask {
                        let path = i % 3 == 0 ? "/big-chunked" : "/hello"
                        let body = try await client.get(server.url(path)).body.collect()
                        return path == "/hello" ? text(body) == "hello" : body.count == 100_000
                    }
                }
                var count = 0
                for try await r in group where r { count += 1 }
                return count
            }
            #expect(ok == 200)
            #expect(a.accepted <= 8 && b.accepted <= 8)
        }
    }

    @Test func deadlineSchedulerOrdersCancelsAndCompacts() async throws {
        try await withClient { client in
            let loop = client.eventLoop
            let scheduler = DeadlineScheduler(loop: loop)
            let fired = Locked<[Int]>([])
            try await loop.submit {
                let now = EventLoop.now
                for (label, ms) in [(3, 60), (1, 20), (2, 40)] {
                    _ = scheduler.schedule(at: now + UInt64(ms) * 1_000_000) { fired.withLock { $0.append(label) } }
                }
                // Many cancelled deadlines: freed at once, the heap compacts.
                let tokens = (0..<1000).map { _ in scheduler.schedule(after: 30_000_000) { fired.withLock { $0.append(-1) } } }
                for t in tokens { scheduler.cancel(t) }
            }
            #expect(try await loop.submit { scheduler.count } == 3)
            try await Task.sleep(for: .milliseconds(250))
            #expect(fired.value == [1, 2, 3])
            #expect(try await loop.submit { scheduler.count } == 0)
        }
    }

    @Test func noFileDescriptorLeaks() async throws {
        func openDescriptors() -> Int {
            guard let dir = opendir("/proc/self/fd") else { return -1 }
            defer { closedir(dir) }
            var n = 0
            while readdir(dir) != nil { n += 1 }
            return n
        }
        // libdispatch opens a timerfd on the first Task.sleep: do that before counting.
        try await Task.sleep(for: .milliseconds(1))
        let baseline = openDescriptors()
        do {
            let server = try TestServer(handler: standardRoutes)
            defer { server.stop() }
            try await withClient({ $0.maxConnectionsPerHost = 6 }) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<120 {
                        group.addTask {
                            switch i % 6 {
                            case 0: _ = try await client.get(server.url("/close")).body.collect()
                            case 1: _ = try await client.get(server.url("/big-chunked")).body.collect()
                            case 2: _ = try? await client.get(server.url("/big")).body.collect(upTo: 10)
                            case 3: _ = try? await client.execute(HTTPClientRequest(url: server.url("/slow")), timeout: .milliseconds(30))
                            case 4: _ = try await client.get(server.url("/until-close")).body.collect()
                            default: _ = try await client.get(server.url("/hello")).body.collect()
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let cancelled = Task { try await client.get(server.url("/slow")) }
                try await Task.sleep(for: .milliseconds(20))
                cancelled.cancel()
                _ = try? await cancelled.value
            }
        }
        // Server threads finish once their sockets are shut down.
        var after = openDescriptors()
        for _ in 0..<50 where after > baseline {
            try await Task.sleep(for: .milliseconds(40))
            after = openDescriptors()
        }
        #expect(after <= baseline, "descriptors: \(baseline) before, \(after) after")
    }

    @Test func clientOnASharedEventLoopLeavesItRunning() async throws {
        let server = try TestServer(handler: standardRoutes)
        defer { server.stop() }
        let loop = try EventLoop(index: 7)
        loop.start(name: "shared")
        let client = HTTPClient(sharing: loop)
        let body = try await client.get(server.url("/hello")).body.collect()
        #expect(text(body) == "hello")
        await client.shutdown()
        // The loop still runs work after the client is gone.
        #expect(try await loop.submit { 42 } == 42)
        loop.stop()
        await loop.waitUntilStopped()
    }

    // MARK: TLS

    private static func tlsServer(_ handler: @escaping TestServer.Handler) throws -> (TestServer, TLSClientContext) {
        let contexts = try TLSFixtures.contexts.get()
        return (try TestServer(tls: contexts.server, handler: handler), contexts.trustingClient)
    }

    @Test func httpsWithVerifiedCertificateAndReuse() async throws {
        let (server, context) = try Self.tlsServer(standardRoutes)
        defer { server.stop() }
        try await withClient({ $0.tlsContext = context }) { client in
            for _ in 0..<3 {
                let response = try await client.get(server.url("/hello", host: "localhost", scheme: "https"))
                #expect(text(try await response.body.collect()) == "hello")
            }
            let big = try await client.get(server.url("/big-chunked", host: "localhost", scheme: "https"))
            #expect(try await big.body.collect().count == 100_000)
            let echoed = try await client.post(server.url("/echo", host: "localhost", scheme: "https"), json: Array("{}".utf8))
            #expect(text(try await echoed.body.collect()).contains("host: localhost:\(server.port)\n"))
            #expect(server.accepted == 1)
        }
    }

    @Test func httpsHostnameMismatchIsRejected() async throws {
        let (server, context) = try Self.tlsServer(standardRoutes)
        defer { server.stop() }
        try await withClient({ $0.tlsContext = context }) { client in
            // The certificate names only DNS:localhost, not the IP address.
            do {
                _ = try await client.get(server.url("/hello", host: "127.0.0.1", scheme: "https"))
                Issue.record("expected a TLS failure")
            } catch let error as HTTPClientError {
                #expect(error.kind == .tlsFailed)
                #expect(error.message.contains("rejected"))
            }
        }
    }

    @Test func httpsUntrustedCertificateIsRejected() async throws {
        let (server, _) = try Self.tlsServer(standardRoutes)
        defer { server.stop() }
        try await withClient { client in  // system trust store only
            let kind = await errorKind { _ = try await client.get(server.url("/hello", host: "localhost", scheme: "https")) }
            #expect(kind == .tlsFailed)
        }
    }

    @Test func tlsHandshakeCountsAgainstTheConnectTimeout() async throws {
        // A plain server that never answers the ClientHello.
        let server = try TestServer { _, _ in .close }
        defer { server.stop() }
        try await withClient({ $0.connectTimeout = .milliseconds(300) }) { client in
            let kind = await errorKind { _ = try await client.get(server.url("/", host: "localhost", scheme: "https")) }
            #expect(kind == .connectTimeout)
        }
    }
}
