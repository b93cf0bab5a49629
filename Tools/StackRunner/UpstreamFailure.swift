import BulkheadHTTP
import BulkheadHTTPClient

/// How a failed upstream call is answered: 504 for timeouts, 502 for everything else.
struct UpstreamFailure {
    let status: HTTPStatus
    let code: String
    /// For the client.
    let message: String
    /// For the log.
    let detail: String

    init(_ error: any Error, upstream: IngressUpstream, base: String, timeout: Duration) {
        let name = upstream.rawValue
        detail = String(describing: error)
        guard let clientError = error as? HTTPClientError else {
            status = .badGateway
            code = "upstream_unavailable"
            message = "\(name) could not be reached."
            return
        }
        switch clientError.kind {
        case .timeout, .connectTimeout:
            status = .gatewayTimeout
            code = "upstream_timeout"
            message = clientError.kind == .connectTimeout
                ? "\(name) did not accept a connection in time." : "\(name) did not answer within \(timeout)."
        case .malformedResponse, .responseTooLarge, .tlsFailed, .invalidRequest, .invalidURL:
            status = .badGateway
            code = "bad_gateway"
            message = "\(name) sent an answer the ingress cannot forward."
        case .connectFailed, .connectionClosed, .cancelled, .shutdown:
            status = .badGateway
            code = "upstream_unavailable"
            message = "\(name) is not available at \(base)."
        }
    }
}
