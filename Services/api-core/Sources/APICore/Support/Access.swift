import BulkheadHTTP
import Shared

/// Who may do what: every route reads the caller from the context and checks one scope.
enum Access {
    /// The authenticated caller, holding `scope`.
    /// - Throws: 401 without a principal, 403 `insufficient_scope` without the scope.
    static func require(_ context: RequestContext, scope: String) throws(HTTPError) -> Principal {
        guard let p = context.principal, p.kind != .service else { throw HTTPError.unauthorized() }
        guard p.hasScope(scope) else {
            throw HTTPError(.forbidden, code: "insufficient_scope", message: "This call needs the '\(scope)' scope.")
        }
        return p
    }
}
