import BulkheadHTTP
import BulkheadService
import Foundation
import Shared

/// `GET/PUT/PATCH /v1/me/settings` (per user) and `/v1/tenant/settings` (per tenant; owners and
/// admins write). Every answer carries a strong `ETag` (`"<version>"`); `If-Match` on a write
/// must name the current version (412 `precondition_failed` otherwise, `*` matches anything).
/// Writes without `If-Match` are accepted (last writer wins).
struct SettingsRoutes: Sendable {
    let store: SettingsStore
    /// Settings' own threads for SQLite: AI bookkeeping on `BlockingWork` never queues in front of them.
    let lane: BlockingLane
    /// Request bodies above this are refused by the server with 413 before any parsing.
    static let bodyLimit = 64 * 1024

    func register(into router: inout Router) {
        for (path, scopeOf) in [("/v1/me/settings", Self.userScope), ("/v1/tenant/settings", Self.tenantScope)] {
            let writes = path == "/v1/tenant/settings"
            router.get(path) { [store, lane] _, context in
                let principal = try Access.require(context, scope: "settings:read")
                let scope = try scopeOf(principal, false)
                let entry = try await lane.run { try store.read(scope) }
                return Self.render(entry)
            }
            router.put(path, bodyLimit: Self.bodyLimit) { [store, lane] request, context in
                let principal = try Access.require(context, scope: "settings:write")
                let scope = try scopeOf(principal, writes)
                let expected = try Self.expectedVersion(request)
                let document = try SettingsDocument.validate(try JSONInput.value(request.body))
                return try await Self.write(store, lane, scope, expected) { _ in document }
            }
            router.patch(path, bodyLimit: Self.bodyLimit) { [store, lane] request, context in
                let principal = try Access.require(context, scope: "settings:write")
                let scope = try scopeOf(principal, writes)
                let expected = try Self.expectedVersion(request)
                let patch = try JSONInput.value(request.body)
                guard case .object = patch else {
                    throw HTTPError(.unprocessableContent, code: "invalid_settings", message: "A merge patch for settings must be a JSON object.")
                }
                return try await Self.write(store, lane, scope, expected) { current in
                    let merged = SettingsDocument.mergePatch(JSONInput.parse(current) ?? .object([:]), patch)
                    return try SettingsDocument.validate(merged)
                }
            }
        }
    }

    /// API keys have no user, so they have no personal settings.
    static let userScope: @Sendable (Principal, Bool) throws -> String = { p, _ in
        guard p.kind == .user else {
            throw HTTPError(
                .forbidden, code: "user_required",
                message: "Personal settings belong to a signed-in user; API keys have none (use /v1/tenant/settings).")
        }
        return "user:\(p.tenant):\(p.subject)"
    }

    static let tenantScope: @Sendable (Principal, Bool) throws -> String = { p, writing in
        if writing && !(p.kind == .user && (p.role == "owner" || p.role == "admin")) {
            throw HTTPError(.forbidden, code: "forbidden", message: "Only the tenant's owners and admins can change tenant settings.")
        }
        return "tenant:\(p.tenant)"
    }

    static func write(
        _ store: SettingsStore, _ lane: BlockingLane, _ scope: String, _ expected: Int64?, transform: @escaping @Sendable (String) throws -> String
    ) async throws -> HTTPResponse {
        let now = Timestamps.nowMillis()
        switch try await lane.run({ try store.write(scope, expectedVersion: expected, now: now, transform: transform) }) {
        case .written(let entry):
            return render(entry)
        case .preconditionFailed(let current):
            throw HTTPError(
                .preconditionFailed, code: "precondition_failed",
                message: "If-Match does not name the current version (\(etag(current.version))); read the settings again and retry.",
                headers: ["ETag": etag(current.version)])
        }
    }

    static func etag(_ version: Int64) -> String { "\"\(version)\"" }

    /// The version `If-Match` names: nil when absent or `*`.
    /// - Throws: 400 `invalid_if_match` for a weak or malformed tag.
    static func expectedVersion(_ request: HTTPRequest) throws(HTTPError) -> Int64? {
        guard let raw = request.headers.first("if-match")?.trimmingCharacters(in: .whitespaces), !raw.isEmpty, raw != "*" else { return nil }
        guard raw.count >= 3, raw.hasPrefix("\""), raw.hasSuffix("\""), let v = Int64(raw.dropFirst().dropLast()), v >= 0 else {
            throw HTTPError.badRequest("If-Match must be one strong ETag as returned by GET, like \"3\".", code: "invalid_if_match")
        }
        return v
    }

    static func render(_ entry: SettingsStore.Entry) -> HTTPResponse {
        .json(bytes: Array(entry.document.utf8), headers: ["ETag": etag(entry.version), "Cache-Control": "no-cache"])
    }
}
