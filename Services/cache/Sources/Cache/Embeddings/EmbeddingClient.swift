import BulkheadHTTP
import BulkheadHTTPClient
import Foundation

/// Embeds `text` fields through the gateway's OpenAI-compatible `POST $GATEWAY_URL/v1/embeddings`,
/// authenticated with the internal credential. Any failure is 503 `embeddings_unavailable`:
/// text lookups fail while key and vector lookups keep working.
struct EmbeddingClient: Sendable {
    let client: HTTPClient?
    let baseURL: String?
    let model: String
    let token: String
    let timeout: Duration

    private struct Response: Decodable {
        struct Item: Decodable { var embedding: [Float] }
        var data: [Item]
    }

    /// The vector of `text`.
    func embed(_ text: String, traceparent: String?) async throws(CacheError) -> [Float] {
        guard let client, let baseURL else {
            throw Self.unavailable("GATEWAY_URL is not set, so 'text' cannot be embedded; send 'vector' or 'key' instead.")
        }
        let url = baseURL.hasSuffix("/") ? baseURL + "v1/embeddings" : baseURL + "/v1/embeddings"
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(token)")
        headers.add(name: "Content-Type", value: "application/json")
        let body = "{\"model\":\(JSONText.quoted(model)),\"input\":\(JSONText.quoted(text))}"
        let request = HTTPClientRequest(method: .post, url: url, headers: headers, body: Array(body.utf8), traceparent: traceparent)
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await client.execute(request, timeout: timeout)
            status = response.status.code
            bytes = try await response.body.collect(upTo: 4 << 20)
        } catch {
            throw Self.unavailable("The embeddings call to \(url) failed: \(error).")
        }
        guard status == 200 else {
            let detail = String(decoding: bytes.prefix(300), as: UTF8.self)
            throw Self.unavailable("The embeddings call to \(url) answered \(status): \(detail)")
        }
        guard let decoded = try? JSONDecoder().decode(Response.self, from: Data(bytes)), let vector = decoded.data.first?.embedding,
            !vector.isEmpty
        else {
            throw Self.unavailable("The embeddings response from \(url) held no embedding.")
        }
        return vector
    }

    static func unavailable(_ message: String) -> CacheError {
        CacheError(.serviceUnavailable, "embeddings_unavailable", message)
    }
}
