import BulkheadEmbeddings
import BulkheadHTTP
import Foundation

/// `POST /v1/embeddings` and `GET /v1/models` over the `local` provider.
struct EmbeddingsRoutes: Sendable {
    let provider: LocalProvider
    /// Limits: body bytes (413 beyond, from the server), texts per request, UTF-8 bytes per text.
    static let bodyLimit = 2 << 20
    static let maxInputs = 2048
    static let maxInputBytes = 32 << 10

    func register(on router: inout Router) {
        let provider = provider
        router.post("/v1/embeddings", bodyLimit: Self.bodyLimit) { request, _ in
            do { return try await Self.embeddings(request, provider: provider) } catch let error as OpenAIError { return error.response }
        }
        router.get("/v1/models") { _, _ in
            var models: [ModelList.Model] = []
            for entry in LocalProvider.models {
                models.append(.init(id: entry.id, created: 1_700_000_000, ownedBy: "local", loaded: await provider.isLoaded(entry.id)))
            }
            return .json(bytes: [UInt8]((try? JSONEncoder().encode(ModelList(data: models))) ?? Data()))
        }
    }

    static func embeddings(_ request: HTTPRequest, provider: LocalProvider) async throws -> HTTPResponse {
        let body: EmbeddingsRequest
        do { body = try JSONDecoder().decode(EmbeddingsRequest.self, from: Data(request.body)) } catch let error as OpenAIError {
            throw error
        } catch {
            throw OpenAIError.invalid("The request body is not valid JSON: \(Self.describe(error))", param: nil, code: "invalid_json")
        }
        guard let entry = LocalProvider.entry(body.model) else {
            throw OpenAIError(
                status: .notFound, message: "The model '\(body.model)' does not exist. Local models: \(LocalProvider.models.map(\.id).joined(separator: ", ")).",
                type: "invalid_request_error", param: "model", code: "model_not_found")
        }
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
        let model: EmbeddingModel
        do { model = try await provider.model(entry) } catch {
            throw OpenAIError(
                status: .serviceUnavailable, message: "The local model '\(entry.id)' is unavailable: \(error)",
                type: "server_error", param: nil, code: "model_unavailable")
        }
        if let dimensions = body.dimensions, dimensions != model.dimensions {
            throw OpenAIError.invalid("'\(entry.id)' produces \(model.dimensions) dimensions; 'dimensions' must be \(model.dimensions) or omitted.", param: "dimensions")
        }
        let vectors: [[Float]]
        do { vectors = try await model.embed(body.input) } catch {
            throw OpenAIError.invalid("\(error)", param: "input")
        }
        let tokens = model.tokenCount(body.input)
        let response = EmbeddingsResponse(
            data: vectors.enumerated().map { i, v in
                .init(index: i, embedding: format == "base64" ? .base64(EmbeddingsResponse.base64(v)) : .floats(v))
            },
            model: entry.id, usage: .init(promptTokens: tokens, totalTokens: tokens))
        return .json(bytes: [UInt8](try JSONEncoder().encode(response)))
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
