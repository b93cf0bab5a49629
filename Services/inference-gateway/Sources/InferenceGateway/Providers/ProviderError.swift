import Foundation
import BulkheadHTTP
import BulkheadHTTPClient

/// Why one attempt at a deployment failed, classified for retries, fallbacks, circuit breakers and metrics.
struct ProviderError: Error, Sendable {
    enum Kind: String, Sendable {
        case timeout, connect, status429 = "status_429", status5xx = "status_5xx", status4xx = "status_4xx"
        case streamError = "stream_error", firstTokenTimeout = "first_token_timeout", circuitOpen = "circuit_open"
    }

    var kind: Kind
    /// What the client sees if this is the last failure.
    var error: GatewayError
    /// From `retry-after-ms` / `retry-after`.
    var retryAfter: Duration?
    /// The prompt did not fit the upstream model's context window: fall back to another model.
    var contextExceeded: Bool = false

    /// Whether another attempt (same or other deployment) may succeed.
    var retryable: Bool {
        switch kind {
        case .timeout, .connect, .status429, .status5xx, .firstTokenTimeout, .circuitOpen, .streamError: true
        case .status4xx: false
        }
    }

    /// Whether this failure counts against the deployment's health (429 and 4xx do not).
    var countsAgainstHealth: Bool {
        switch kind {
        case .timeout, .connect, .status5xx, .firstTokenTimeout, .streamError: true
        case .status429, .status4xx, .circuitOpen: false
        }
    }

    /// Classifies an HTTP client failure.
    static func transport(_ error: any Error, deployment: String) -> ProviderError {
        if let e = error as? ProviderError { return e }
        if let e = error as? HTTPClientError {
            switch e.kind {
            case .timeout:
                return ProviderError(kind: .timeout, error: GatewayError(
                    status: .gatewayTimeout, message: "The upstream model did not answer in time.", type: "api_error",
                    code: "upstream_timeout", retryable: true))
            case .connectFailed, .connectTimeout, .tlsFailed:
                return ProviderError(kind: .connect, error: GatewayError(
                    status: .badGateway, message: "The upstream model could not be reached.", type: "api_error",
                    code: "upstream_unreachable", retryable: true))
            case .cancelled:
                return ProviderError(kind: .streamError, error: GatewayError(
                    status: .badGateway, message: "The upstream call was cancelled.", type: "api_error", code: "cancelled", retryable: true))
            default:
                return ProviderError(kind: .streamError, error: GatewayError(
                    status: .badGateway, message: "The upstream connection failed: \(e.kind.rawValue).", type: "api_error",
                    code: "upstream_error", retryable: true))
            }
        }
        return ProviderError(kind: .streamError, error: GatewayError(
            status: .badGateway, message: "The upstream call failed.", type: "api_error", code: "upstream_error", retryable: true))
    }

    /// Classifies an upstream error status with its normalised message and code.
    static func status(
        _ status: Int, message: String, type: String?, code: String?, retryAfter: Duration?, contextExceeded: Bool
    ) -> ProviderError {
        if contextExceeded {
            return ProviderError(
                kind: .status4xx,
                error: GatewayError(status: .badRequest, message: message, type: "invalid_request_error", param: "messages", code: "context_length_exceeded"),
                retryAfter: nil, contextExceeded: true)
        }
        switch status {
        case 429:
            var headers: [(String, String)] = []
            if let retryAfter { headers.append(("Retry-After", String(max(1, Int((Double(retryAfter.components.seconds) + 0.999).rounded(.down)))))) }
            return ProviderError(kind: .status429, error: GatewayError(
                status: .tooManyRequests, message: "The upstream provider is rate limiting: \(message)", type: "rate_limit_error",
                code: "upstream_rate_limited", headers: headers, retryable: true), retryAfter: retryAfter)
        case 500...599:
            return ProviderError(kind: .status5xx, error: GatewayError(
                status: .badGateway, message: "The upstream provider failed (\(status)): \(message)", type: "api_error",
                code: "upstream_error", retryable: true), retryAfter: retryAfter)
        default:
            // The request itself is wrong for this provider: tell the client as the provider did.
            let httpStatus = HTTPStatus(code: status)
            let t = type ?? (status == 401 || status == 403 ? "authentication_error" : "invalid_request_error")
            return ProviderError(kind: .status4xx, error: GatewayError(
                status: status == 401 || status == 403 ? .badGateway : httpStatus,
                message: status == 401 || status == 403 ? "The gateway's credential for the upstream provider was refused: \(message)" : message,
                type: t, code: code))
        }
    }

    /// `retry-after-ms` (milliseconds), else `retry-after` (seconds or an HTTP date).
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        if let ms = headers.first("retry-after-ms").flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }), ms >= 0 {
            return .milliseconds(Int64(ms))
        }
        guard let value = headers.first("retry-after")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        if let date = HTTPDate.parse(value) {
            let delta = date - WallClock.nowSeconds
            return .milliseconds(Int64(max(0, delta) * 1000))
        }
        return nil
    }
}
