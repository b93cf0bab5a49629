import BulkheadObservability
import BulkheadService
import BulkheadTesting
import Foundation
import InferenceGateway
import Testing

/// Errors the connection layer answers by itself (before any middleware) keep OpenAI's shape
/// under `/v1/` on the real gateway service, and Bulkhead's shape elsewhere.
@Suite("Gateway: connection-layer errors")
struct ServiceErrorShapeTests {
    @Test func oversizedBodyBeforeItIsReadIsOpenAIShapedUnderV1() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gw-shape-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let host = try await ServiceHost.start(
            InferenceGatewayService.self,
            environment: Environment([
                "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dir, "BULKHEAD_INTERNAL_TOKEN": "shape-test-token",
                "LOG_LEVEL": "error", "ACCESS_LOG": "false", "GATEWAY_CHAT_BODY_LIMIT": "65536",
            ]))

        // Content-Length over the route's limit: 413 at head time, the body is never read.
        let c = try RawConnection(port: host.port)
        try c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n")
        let r = try c.readResponse()
        #expect(r.status == 413)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: Any])
        let error = try #require(body["error"] as? [String: Any])
        #expect(error["type"] as? String == "invalid_request_error")
        #expect(error["code"] as? String == "body_too_large")
        #expect(error.keys.contains("param"))
        #expect((error["message"] as? String)?.contains("70000") == true)

        // Outside /v1/ the runtime's own shape stays.
        let c2 = try RawConnection(port: host.port)
        try c2.send("POST /internal/anything HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
        let r2 = try c2.readResponse()
        #expect(r2.status == 413)
        #expect(r2.text.contains("\"type\"") == false)
        #expect(r2.errorCode == "body_too_large")
        await host.shutdown()
    }
}
