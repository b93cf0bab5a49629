import BulkheadEmbeddings
import BulkheadHTTP
import BulkheadHTTPClient
import Foundation
import Shared

/// `POST /v1/embeddings` over the catalog's embeddings models (the `local` provider in-process,
/// or an OpenAI-compatible upstream), through the hooks like chat.
struct EmbeddingsRoutes: Sendable {
    let service: EmbeddingsService
    /// Limits: body bytes (413 beyond, from the server), texts per request, UTF-8 bytes per text.
    static let bodyLimit = 2 << 20
    static let maxInputs = 2048
    static let maxInputBytes = 32 << 10

    func register(on router: inout Router) {
        let service = service
        router.post("/v1/embeddings", bodyLimit: Self.bodyLimit) { request, context in
            do {
                let body = try Self.decode(request.body)
                let done = try await service.embed(body, caller: ChatRoute.caller(context))
                return .json(bytes: done.body, headers: done.headers)
            } catch let error as OpenAIError {
                return error.response
            } catch let error as GatewayError {
                return error.response
            }
        }
    }

    static func decode(_ bytes: [UInt8]) throws -> EmbeddingsRequest {
        do { return try JSONDecoder().decode(EmbeddingsRequest.self, from: Data(bytes)) } catch let error as OpenAIError {
            throw error
        } catch {
            throw OpenAIError.invalid("The request body is not valid JSON: \(Self.describe(error))", param: nil, code: "invalid_json")
        }
    }

    /// Checks the inputs against the limits.
    static func validate(_ body: EmbeddingsRequest) throws(OpenAIError) {
        guard !body.input.isEmpty else { throw OpenAIError.invalid("'input' must not be empty.", param: "input") }
        guard body.input.count <= maxInputs else {
            throw OpenAIError(
                status: .payloadTooLarge, message: "'input' has \(body.input.count) items; at most \(maxInputs) are allowed.",
                type: "invalid_request_error", param: "input", code: "too_many_inputs")
        }
        for (i, text) in body.input.enumerated() {
            if text.isEmpty { throw OpenAIError.invalid("'input[\(i)]' must not be empty.", param: "input") }
            if text.utf8.count > maxInputBytes {
                throw OpenAIError(
                    status: .payloadTooLarge, message: "'input[\(i)]' is \(text.utf8.count) bytes; at most \(maxInputBytes) are allowed.",
                    type: "invalid_request_error", param: "input", code: "input_too_long")
            }
        }
        let format = body.encodingFormat ?? "float"
        guard format == "float" || format == "base64" else {
            throw OpenAIError.invalid("'encoding_format' must be \"float\" or \"base64\", got \"\(format)\".", param: "encoding_format")
        }
    }

    /// Runs the local model for `body` (the `local` provider).
    static func local(_ body: EmbeddingsRequest, entry: LocalProvider.ModelEntry, publicModel: String, provider: LocalProvider) async throws -> (bytes: [UInt8], tokens: Int) {
        let model: EmbeddingModel
        do { model = try await provider.model(entry) } catch {
            throw ProviderError(kind: .status4xx, error: GatewayError(
                status: .serviceUnavailable, message: "The local model '\(entry.id)' is unavailable: \(error)",
                type: "server_error", param: nil, code: "model_unavailable"))
        }
        if let dimensions = body.dimensions, dimensions != model.dimensions {
            throw ProviderError(kind: .status4xx, error: .invalid(
                "'\(publicModel)' produces \(model.dimensions) dimensions; 'dimensions' must be \(model.dimensions) or omitted.", param: "dimensions"))
        }
        let vectors: [[Float]]
        do { vectors = try await model.embed(body.input) } catch {
            throw ProviderError(kind: .status4xx, error: .invalid("\(error)", param: "input"))
        }
        let tokens = model.tokenCount(body.input)
        let base64 = body.encodingFormat == "base64"
        let response = EmbeddingsResponse(
            data: vectors.enumerated().map { i, v in
                .init(index: i, embedding: base64 ? .base64(EmbeddingsResponse.base64(v)) : .floats(v))
            },
            model: publicModel, usage: .init(promptTokens: tokens, totalTokens: tokens))
        return ([UInt8](try JSONEncoder().encode(response)), tokens)
    }

    /// A short reason from a JSONDecoder error (the path and what was wrong), without type dumps.
    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let c)?: return c.underlyingError.map { "\($0.localizedDescription)" } ?? c.debugDescription
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?, .keyNotFound(_, let c)?:
            return c.debugDescription
        default: return "malformed JSON"
        }
    }
}
