import BulkheadHTTP

/// An error of the cache or counters with the HTTP status and code it is answered with
/// (rendered as `{"error":{"code","message"}}`).
struct CacheError: Error, Sendable {
    var status: HTTPStatus
    var code: String
    var message: String

    init(_ status: HTTPStatus, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The same error as the HTTP layer throws it.
    var httpError: HTTPError { HTTPError(status, code: code, message: message) }

    static func namespaceNotFound(_ tenant: String, _ namespace: String) -> CacheError {
        CacheError(.notFound, "namespace_not_found", "No namespace '\(namespace)' for tenant '\(tenant)'.")
    }

    static func entryNotFound(_ key: String) -> CacheError {
        CacheError(.notFound, "entry_not_found", "No live entry '\(key)' in this namespace.")
    }

    static func invalidVector(_ why: String) -> CacheError {
        CacheError(.unprocessableContent, "invalid_vector", why)
    }

    static func invalidField(_ field: String, _ why: String) -> CacheError {
        CacheError(.unprocessableContent, "invalid_field", "Field '\(field)' \(why).")
    }

    static func missingField(_ field: String, _ why: String = "is required") -> CacheError {
        CacheError(.unprocessableContent, "missing_field", "Field '\(field)' \(why).")
    }
}
