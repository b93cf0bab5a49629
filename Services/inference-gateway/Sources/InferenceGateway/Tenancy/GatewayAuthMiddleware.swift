import BulkheadAuth
import BulkheadCrypto
import BulkheadHTTP
import Shared

/// Authenticates every `/v1/` request and answers failures in OpenAI's error shape:
/// - `Authorization: Bearer <access token>`: verified locally against auth's JWKS;
/// - `Authorization: Bearer bk_...` or `X-API-Key: bk_...`: introspected through auth (cached);
/// - `Authorization: Bearer $BULKHEAD_INTERNAL_TOKEN`: a service principal without tenant limits,
///   which may name a tenant for accounting with `X-Bulkhead-Tenant`.
/// Calls (POST) need the `ai:invoke` scope (or `*`); listing models needs only a valid credential.
struct GatewayAuthMiddleware: HTTPMiddleware {
    let verifier: AccessTokenVerifier?
    let introspector: APIKeyIntrospector?
    let internalToken: [UInt8]
    let prefix = "/v1/"

    static let invokeScope = "ai:invoke"

    func handle(_ request: HTTPRequest, context: RequestContext, next: HTTPHandler) async throws -> HTTPResponse {
        guard request.path.hasPrefix(prefix) else { return try await next(request, context) }
        var context = context
        let principal = try await authenticate(request)
        if request.method == .post, principal.kind != .service, !principal.hasScope(Self.invokeScope) {
            throw GatewayError(
                status: .forbidden, message: "This credential lacks the '\(Self.invokeScope)' scope needed to call models.",
                type: "permission_error", code: "insufficient_scope")
        }
        context.principal = principal
        return try await next(request, context)
    }

    private func authenticate(_ request: HTTPRequest) async throws -> Principal {
        if !internalToken.isEmpty, let bearer = Self.bearer(request.headers), ConstantTime.equals(Array(bearer.utf8), internalToken) {
            var tenant = ""
            if let named = request.headers.first("x-bulkhead-tenant") {
                guard CacheClient.isValidName(named) else {
                    throw GatewayError(
                        status: .badRequest, message: "X-Bulkhead-Tenant must be 1 to 128 characters of A-Z a-z 0-9 . _ : -.",
                        type: "invalid_request_error", param: nil, code: "invalid_tenant")
                }
                tenant = named
            }
            return Principal(kind: .service, subject: "service", tenant: tenant, role: "service", scopes: ["internal"], plan: "")
        }
        guard let credential = BulkheadAuthenticator.credential(in: request.headers) else {
            throw Self.unauthorized(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key or access token>'.", code: "missing_api_key")
        }
        do throws(TokenVerificationError) {
            switch credential {
            case .apiKey(let key):
                guard let introspector else { throw TokenVerificationError.inactiveAPIKey }
                return try await introspector.principal(for: key)
            case .accessToken(let token):
                guard let verifier else { throw TokenVerificationError.keysUnavailable("no AUTH_URL configured") }
                return try await verifier.principal(for: token)
            }
        } catch {
            switch error {
            case .keysUnavailable:
                throw GatewayError(
                    status: .serviceUnavailable, message: "Credentials cannot be verified right now; try again shortly.",
                    type: "api_error", code: "auth_unavailable", headers: [("Retry-After", "1")], retryable: true)
            case .inactiveAPIKey:
                throw Self.unauthorized("Incorrect API key provided: the key is invalid, revoked or expired.", code: "invalid_api_key")
            default:
                throw Self.unauthorized("Invalid access token: \(error.description).", code: "invalid_api_key")
            }
        }
    }

    static func unauthorized(_ message: String, code: String) -> GatewayError {
        GatewayError(
            status: .unauthorized, message: message, type: "authentication_error", code: code,
            headers: [("WWW-Authenticate", "Bearer")])
    }

    static func bearer(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first("authorization"), value.count > 7, value.prefix(7).lowercased() == "bearer " else { return nil }
        return String(value.dropFirst(7))
    }
}
