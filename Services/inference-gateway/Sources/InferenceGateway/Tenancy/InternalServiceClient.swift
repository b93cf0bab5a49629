import BulkheadHTTP
import BulkheadHTTPClient
import Foundation

/// Calls another Bulkhead service's internal API (`Authorization: Bearer $BULKHEAD_INTERNAL_TOKEN`)
/// with a deadline, JSON in and out.
struct InternalServiceClient: Sendable {
    /// Base URL without a trailing slash, e.g. `http://cache:8084`.
    let baseURL: String
    let token: String
    let client: HTTPClient

    init(baseURL: String, token: String, client: HTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.client = client
    }

    /// A non-2xx answer: status and body.
    struct StatusError: Error, CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "HTTP \(status): \(body.prefix(300))" }
        /// The `error.code` of a Bulkhead error body, if any.
        var code: String? {
            struct E: Decodable { struct D: Decodable { var code: String }; var error: D }
            return (try? JSONDecoder().decode(E.self, from: Data(body.utf8)))?.error.code
        }
    }

    /// Sends `method path` with `body`, returning the status and body bytes (up to `maxBytes`).
    func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8] = [], timeout: Duration?, maxBytes: Int = 4 << 20
    ) async throws -> (status: Int, body: [UInt8]) {
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(token)")
        if !body.isEmpty { headers.add(name: "Content-Type", value: "application/json") }
        let request = HTTPClientRequest(method: method, url: baseURL + path, headers: headers, body: body)
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: maxBytes)
        return (response.status.code, bytes)
    }

    /// Sends and decodes a 2xx JSON answer; throws `StatusError` otherwise.
    func json<T: Decodable>(
        _ type: T.Type, _ method: HTTPMethod, _ path: String, body: [UInt8] = [], timeout: Duration?
    ) async throws -> T {
        let (status, bytes) = try await send(method, path, body: body, timeout: timeout)
        guard (200..<300).contains(status) else { throw StatusError(status: status, body: String(decoding: bytes, as: UTF8.self)) }
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }

    /// Sends and expects a 2xx answer; throws `StatusError` otherwise.
    @discardableResult
    func expectSuccess(_ method: HTTPMethod, _ path: String, body: [UInt8] = [], timeout: Duration?) async throws -> [UInt8] {
        let (status, bytes) = try await send(method, path, body: body, timeout: timeout)
        guard (200..<300).contains(status) else { throw StatusError(status: status, body: String(decoding: bytes, as: UTF8.self)) }
        return bytes
    }

    /// Percent-encodes one path segment (names are validated, this is belt and braces).
    static func segment(_ s: String) -> String {
        // Fast path for what names almost always are: building the CharacterSet and encoding
        // cost more than the rest of a worker's stream append.
        if s.utf8.allSatisfy({ isUnreserved($0) }) { return s }
        return s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~:"))) ?? s
    }

    /// ASCII letters, digits and `-._~:`: left as they are by `segment`.
    private static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
            || b == 0x3A
    }
}
