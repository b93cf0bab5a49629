import BulkheadAuth
import BulkheadCrypto
import Foundation
import Testing

/// Not a test: the verifier benchmark run by `bench/auth/run` (enabled with `BULKHEAD_BENCH=1`).
@Suite("auth benchmark", .enabled(if: ProcessInfo.processInfo.environment["BULKHEAD_BENCH"] == "1"))
struct VerifierBenchmark {
    @Test func verifierTokensPerSecondOnOneCore() async throws {
        let key = try Ed25519PrivateKey.generate()
        let set = JSONWebKeySet(keys: [JSONWebKey(kid: "k1", publicKey: key.publicKey)])
        let verifier = AccessTokenVerifier(keySource: { set })
        let now = AccessTokenVerifier.systemClock()
        let tokens = try (0..<64).map { i in
            try JWT.sign(AccessTokenClaims(iss: "bulkhead-auth", aud: "bulkhead", sub: "usr_\(i)", tenant: "ten_1", role: "member",
                scopes: ["ai:invoke", "jobs:read"], plan: "pro", iat: now, exp: now + 900, nbf: now, jti: "jti_\(i)"), kid: "k1", key: key)
        }
        _ = try await verifier.verify(tokens[0])  // warm the key cache
        var rows: [String] = []
        for round in 1...3 {
            let n = 20_000
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                for i in 0..<n { _ = try await verifier.verify(tokens[i & 63]) }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            rows.append("| \(round) | \(n) | \(String(format: "%.3f", seconds)) | \(Int(Double(n) / seconds)) | \(String(format: "%.1f", seconds / Double(n) * 1e6)) |")
        }
        print("BENCH-TABLE-BEGIN")
        print("| round | tokens | seconds | tokens/s | µs/token |")
        print("|---|---|---|---|---|")
        for r in rows { print(r) }
        print("BENCH-TABLE-END")
    }
}
