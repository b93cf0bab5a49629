import BulkheadCrypto
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Drives `step` on the non-blocking socket until it stops asking to wait.
private func drive(_ fd: Int32, _ step: () -> TLSIOResult) -> TLSIOResult {
    for _ in 0..<1000 {
        let result = step()
        switch result {
        case .wantRead:
            guard Sockets.wait(fd, for: .wantRead) else { return .failed(TLSError("test timed out")) }
        case .wantWrite:
            guard Sockets.wait(fd, for: .wantWrite) else { return .failed(TLSError("test timed out")) }
        default:
            return result
        }
    }
    return .failed(TLSError("test made no progress"))
}

/// Connects to a fresh echo server and runs the handshake with `configuration` and `serverName`.
private func handshake(
    _ configuration: TLSClientConfiguration, serverName: String, ending: EchoServer.Ending = .closeNotify
) throws -> (TLSConnection, Int32, TLSIOResult) {
    let fixture = try TLSFixture.get()
    let server = try EchoServer(fixture: fixture, ending: ending)
    let fd = try Sockets.connectNonBlocking(port: server.port)
    let connection = try TLSConnection(context: TLSClientContext(configuration: configuration), fd: fd, serverName: serverName)
    return (connection, fd, drive(fd) { connection.handshake() })
}

/// Writes `message`, reads the echo back, then expects `.closed`.
private func echo(_ message: String, over connection: TLSConnection, fd: Int32) throws -> String {
    let bytes = Array(message.utf8)
    var sent = 0
    while sent < bytes.count {
        let result = bytes.withUnsafeBytes { buffer in
            drive(fd) { connection.write(UnsafeRawBufferPointer(rebasing: buffer[sent...])) }
        }
        guard case let .done(count) = result else { throw TestFailure("write: \(result)") }
        sent += count
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1024)
    while received.count < bytes.count {
        let result = buffer.withUnsafeMutableBytes { raw in drive(fd) { connection.read(into: raw) } }
        guard case let .done(count) = result else { throw TestFailure("read: \(result)") }
        received += buffer.prefix(count)
    }
    return String(decoding: received, as: UTF8.self)
}

@Suite("TLS client over a non-blocking socket")
struct TLSConnectionTests {
    @Test("Handshake with the test CA trusted and SNI localhost, then echo and clean close")
    func handshakeAndEcho() throws {
        let fixture = try TLSFixture.get()
        let (connection, fd, result) = try handshake(
            TLSClientConfiguration(additionalTrustedCAFile: fixture.caFile), serverName: "localhost")
        defer { close(fd) }
        #expect(result == .done(0))
        #expect(connection.isHandshakeComplete)
        #expect(connection.protocolVersion == "TLSv1.3")
        #expect(try echo("hello over TLS", over: connection, fd: fd) == "hello over TLS")

        var buffer = [UInt8](repeating: 0, count: 16)
        let end = buffer.withUnsafeMutableBytes { raw in drive(fd) { connection.read(into: raw) } }
        #expect(end == .closed)
        #expect(!connection.closedWithoutCloseNotify)
        #expect(connection.shutdown() == .done(0))
    }

    @Test("CA given as PEM text, server name given as an IP literal")
    func pemTrustAndIPAddress() throws {
        let fixture = try TLSFixture.get()
        let pem = try String(contentsOfFile: fixture.caFile, encoding: .utf8)
        let (connection, fd, result) = try handshake(
            TLSClientConfiguration(trustSystemRoots: false, additionalTrustedCAPEM: pem), serverName: "127.0.0.1")
        defer { close(fd) }
        #expect(result == .done(0))
        #expect(try echo("ip", over: connection, fd: fd) == "ip")
    }

    @Test("A TCP close without close_notify reads as .closed and is reported")
    func abruptClose() throws {
        let fixture = try TLSFixture.get()
        let (connection, fd, result) = try handshake(
            TLSClientConfiguration(additionalTrustedCAFile: fixture.caFile), serverName: "localhost", ending: .abrupt)
        defer { close(fd) }
        #expect(result == .done(0))
        #expect(try echo("bye", over: connection, fd: fd) == "bye")
        var buffer = [UInt8](repeating: 0, count: 16)
        let end = buffer.withUnsafeMutableBytes { raw in drive(fd) { connection.read(into: raw) } }
        #expect(end == .closed)
        #expect(connection.closedWithoutCloseNotify)
    }

    @Test("Wrong server name fails hostname verification")
    func wrongName() throws {
        let fixture = try TLSFixture.get()
        let (_, fd, result) = try handshake(
            TLSClientConfiguration(additionalTrustedCAFile: fixture.caFile), serverName: "wrong.example")
        defer { close(fd) }
        guard case let .failed(error) = result else {
            Issue.record("expected a verification failure, got \(result)")
            return
        }
        #expect(error.isCertificateVerificationFailure)
        #expect(error.verificationResult == "hostname mismatch")
    }

    @Test("Without the test CA trusted, verification fails")
    func untrustedCA() throws {
        let (connection, fd, result) = try handshake(TLSClientConfiguration(), serverName: "localhost")
        defer { close(fd) }
        guard case let .failed(error) = result else {
            Issue.record("expected a verification failure, got \(result)")
            return
        }
        #expect(error.isCertificateVerificationFailure)
        #expect(error.verificationResult?.contains("issuer certificate") == true)
        #expect(error.description.contains("certificate"))
        // A failed connection stays failed and does not try to send close_notify.
        if case .failed = connection.handshake() {} else { Issue.record("handshake after failure should fail") }
        #expect(connection.shutdown() == .done(0))
    }

    @Test("The clearly named insecure flag skips verification")
    func insecure() throws {
        let (connection, fd, result) = try handshake(
            TLSClientConfiguration(trustSystemRoots: false, insecureSkipCertificateVerification: true),
            serverName: "wrong.example")
        defer { close(fd) }
        #expect(result == .done(0))
        #expect(try echo("unsafe", over: connection, fd: fd) == "unsafe")
    }

    @Test("Bad configuration is rejected up front")
    func badConfiguration() throws {
        #expect(throws: CryptoError.self) {
            try TLSClientContext(configuration: TLSClientConfiguration(additionalTrustedCAFile: "/nonexistent/ca.pem"))
        }
        #expect(throws: CryptoError.self) {
            try TLSClientContext(configuration: TLSClientConfiguration(additionalTrustedCAPEM: "no certificates here"))
        }
        #expect(throws: CryptoError.self) {
            try TLSClientContext(configuration: TLSClientConfiguration(applicationProtocols: [""]))
        }
        let context = try TLSClientContext()
        #expect(throws: CryptoError.self) { try TLSConnection(context: context, fd: -1, serverName: "") }
    }
}
