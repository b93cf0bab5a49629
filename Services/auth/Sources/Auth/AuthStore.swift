import BulkheadStorage
import Foundation

/// auth's SQLite database (`DATA_DIR/auth.sqlite`): every query is tenant-scoped where a
/// tenant applies, so a row of another tenant is indistinguishable from a missing one.
final class AuthStore: Sendable {
    let database: SQLiteDatabase

    /// Opens (creating) the file and applies pending migrations.
    init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        try Migrator(AuthMigrations.all).migrate(database)
    }

    // MARK: Tenants and users

    /// Creates a tenant and its owner in one transaction.
    func createTenant(name: String, plan: String, owner email: String, passwordHash: String, now: Int64) throws -> (Tenant, User) {
        let tenant = Tenant(id: Identifiers.make("ten"), name: name, plan: plan, createdAt: now)
        let user = User(id: Identifiers.make("usr"), tenantID: tenant.id, email: email, passwordHash: passwordHash, role: .owner, createdAt: now)
        try database.transaction { tx in
            guard try tx.queryFirst("SELECT 1 FROM plans WHERE name = ?", bindings: [.text(plan)]) != nil else {
                throw AuthStoreError.unknownPlan
            }
            guard try tx.queryFirst("SELECT 1 FROM users WHERE email = ?", bindings: [.text(email)]) == nil else {
                throw AuthStoreError.emailTaken
            }
            try tx.run("INSERT INTO tenants (id, name, plan, created_at) VALUES (?, ?, ?, ?)",
                bindings: [.text(tenant.id), .text(name), .text(plan), .integer(now)])
            try Self.insert(user, into: tx)
        }
        return (tenant, user)
    }

    func tenant(id: String) throws -> Tenant? {
        try database.queryFirst("SELECT * FROM tenants WHERE id = ?", bindings: [.text(id)]).flatMap(Self.tenant)
    }

    /// Adds a user to an existing tenant.
    func addUser(tenantID: String, email: String, passwordHash: String, role: Role, now: Int64) throws -> User {
        let user = User(id: Identifiers.make("usr"), tenantID: tenantID, email: email, passwordHash: passwordHash, role: role, createdAt: now)
        try database.transaction { tx in
            guard try tx.queryFirst("SELECT 1 FROM users WHERE email = ?", bindings: [.text(email)]) == nil else {
                throw AuthStoreError.emailTaken
            }
            try Self.insert(user, into: tx)
        }
        return user
    }

    func user(email: String) throws -> User? {
        try database.queryFirst("SELECT * FROM users WHERE email = ?", bindings: [.text(email)]).flatMap(Self.user)
    }

    /// A user by id in any tenant (only for server-side lookups such as refresh).
    func user(id: String) throws -> User? {
        try database.queryFirst("SELECT * FROM users WHERE id = ?", bindings: [.text(id)]).flatMap(Self.user)
    }

    /// The user with `id` in `tenantID` only.
    func user(id: String, tenantID: String) throws -> User? {
        try database.queryFirst("SELECT * FROM users WHERE id = ? AND tenant_id = ?", bindings: [.text(id), .text(tenantID)])
            .flatMap(Self.user)
    }

    func users(tenantID: String, limit: Int, after: String?) throws -> [User] {
        try database.query(
            "SELECT * FROM users WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?",
            bindings: [.text(tenantID), .text(after ?? ""), .integer(Int64(limit))]
        ).compactMap(Self.user)
    }

    func ownerCount(tenantID: String) throws -> Int {
        try database.queryFirst("SELECT COUNT(*) FROM users WHERE tenant_id = ? AND role = 'owner'", bindings: [.text(tenantID)])?.int(0) ?? 0
    }

    @discardableResult
    func setRole(userID: String, tenantID: String, role: Role) throws -> Bool {
        try database.run("UPDATE users SET role = ? WHERE id = ? AND tenant_id = ?",
            bindings: [.text(role.rawValue), .text(userID), .text(tenantID)]).changes == 1
    }

    func setPasswordHash(userID: String, hash: String) throws {
        try database.run("UPDATE users SET password_hash = ? WHERE id = ?", bindings: [.text(hash), .text(userID)])
    }

    /// Deletes a user (and, by cascade, their refresh tokens).
    func deleteUser(id: String, tenantID: String) throws -> Bool {
        try database.run("DELETE FROM users WHERE id = ? AND tenant_id = ?", bindings: [.text(id), .text(tenantID)]).changes == 1
    }

    // MARK: Plans

    func plan(named name: String) throws -> PlanLimits? {
        try database.queryFirst("SELECT * FROM plans WHERE name = ?", bindings: [.text(name)]).flatMap(Self.plan)
    }

    func plans() throws -> [PlanLimits] {
        try database.query("SELECT * FROM plans ORDER BY name").compactMap(Self.plan)
    }

    func upsert(plan p: PlanLimits, now: Int64) throws {
        try database.run("""
            INSERT INTO plans (name, ai_budget_micro_usd_per_day, ai_cost_micro_usd_per_minute, requests_per_minute,
                               tokens_per_minute, max_concurrent_jobs, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET
                ai_budget_micro_usd_per_day = excluded.ai_budget_micro_usd_per_day,
                ai_cost_micro_usd_per_minute = excluded.ai_cost_micro_usd_per_minute,
                requests_per_minute = excluded.requests_per_minute,
                tokens_per_minute = excluded.tokens_per_minute,
                max_concurrent_jobs = excluded.max_concurrent_jobs,
                updated_at = excluded.updated_at
            """,
            bindings: [.text(p.name), .integer(p.aiBudgetMicroUsdPerDay), .integer(p.aiCostMicroUsdPerMinute),
                       .integer(p.requestsPerMinute), .integer(p.tokensPerMinute), .integer(p.maxConcurrentJobs), .integer(now)])
    }

    /// Moves a tenant to another plan; false when the tenant does not exist.
    func setPlan(tenantID: String, plan: String) throws -> Bool {
        try database.transaction { tx in
            guard try tx.queryFirst("SELECT 1 FROM plans WHERE name = ?", bindings: [.text(plan)]) != nil else {
                throw AuthStoreError.unknownPlan
            }
            return try tx.run("UPDATE tenants SET plan = ? WHERE id = ?", bindings: [.text(plan), .text(tenantID)]).changes == 1
        }
    }

    // MARK: Refresh tokens

    /// Starts a new family (one per login) holding its first token.
    func startRefreshFamily(userID: String, tokenHash: [UInt8], expiresAt: Int64, now: Int64) throws {
        let family = Identifiers.make("fam")
        try database.transaction { tx in
            try tx.run("INSERT INTO refresh_families (id, user_id, created_at) VALUES (?, ?, ?)",
                bindings: [.text(family), .text(userID), .integer(now)])
            try tx.run("INSERT INTO refresh_tokens (token_hash, family_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
                bindings: [.blob(tokenHash), .text(family), .integer(expiresAt), .integer(now)])
        }
    }

    /// Spends `tokenHash` and stores `newHash` in its family, or detects reuse and revokes the family.
    func rotateRefreshToken(_ tokenHash: [UInt8], newHash: [UInt8], newExpiresAt: Int64, now: Int64) throws -> RefreshOutcome {
        try database.transaction { tx -> RefreshOutcome in
            guard let row = try tx.queryFirst("""
                SELECT t.family_id, t.expires_at, t.used_at, f.user_id, f.revoked_at
                FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = ?
                """, bindings: [.blob(tokenHash)]),
                let family = row.string("family_id"), let userID = row.string("user_id")
            else { return .unknownOrRevoked }
            if !row.isNull("revoked_at") { return .unknownOrRevoked }
            if !row.isNull("used_at") {
                try tx.run("UPDATE refresh_families SET revoked_at = ?, revoked_reason = 'reuse' WHERE id = ?",
                    bindings: [.integer(now), .text(family)])
                return .reused
            }
            if (row.int64("expires_at") ?? 0) < now { return .expired }
            try tx.run("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", bindings: [.integer(now), .blob(tokenHash)])
            try tx.run("INSERT INTO refresh_tokens (token_hash, family_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
                bindings: [.blob(newHash), .text(family), .integer(newExpiresAt), .integer(now)])
            return .rotated(userID: userID, familyID: family)
        }
    }

    /// Revokes the family `tokenHash` belongs to; false when the token is unknown.
    func revokeFamily(containing tokenHash: [UInt8], reason: String, now: Int64) throws -> Bool {
        try database.run("""
            UPDATE refresh_families SET revoked_at = COALESCE(revoked_at, ?), revoked_reason = COALESCE(revoked_reason, ?)
            WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?)
            """, bindings: [.integer(now), .text(reason), .blob(tokenHash)]).changes == 1
    }

    // MARK: API keys

    func insert(apiKey k: APIKeyRecord) throws {
        try database.run("""
            INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, scopes, created_by, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, bindings: [.text(k.id), .text(k.tenantID), .text(k.name), .text(k.prefix), .blob(k.secretHash),
                            .text(Self.encodeList(k.scopes)), .text(k.createdBy), .integer(k.createdAt), SQLiteValue(k.expiresAt)])
    }

    func apiKeys(tenantID: String, limit: Int) throws -> [APIKeyRecord] {
        try database.query("SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at DESC, id LIMIT ?",
            bindings: [.text(tenantID), .integer(Int64(limit))]).compactMap(Self.apiKey)
    }

    func apiKey(prefix: String) throws -> APIKeyRecord? {
        try database.queryFirst("SELECT * FROM api_keys WHERE prefix = ?", bindings: [.text(prefix)]).flatMap(Self.apiKey)
    }

    /// Revokes a key of `tenantID`; false when there is no such key there.
    func revokeAPIKey(id: String, tenantID: String, now: Int64) throws -> Bool {
        guard try database.queryFirst("SELECT 1 FROM api_keys WHERE id = ? AND tenant_id = ?", bindings: [.text(id), .text(tenantID)]) != nil
        else { return false }
        try database.run("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND tenant_id = ?",
            bindings: [.integer(now), .text(id), .text(tenantID)])
        return true
    }

    // MARK: Signing keys

    func signingKeys() throws -> [SigningKeyRecord] {
        try database.query("SELECT * FROM signing_keys ORDER BY created_at, kid").compactMap { row in
            guard let kid = row.string("kid"), let created = row.int64("created_at") else { return nil }
            return SigningKeyRecord(kid: kid, createdAt: created, retiredAt: row.int64("retired_at"))
        }
    }

    /// Records a new signing key and retires every other active one, atomically.
    func activateSigningKey(kid: String, now: Int64) throws {
        try database.transaction { tx in
            try tx.run("UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL", bindings: [.integer(now)])
            try tx.run("INSERT INTO signing_keys (kid, created_at) VALUES (?, ?)", bindings: [.text(kid), .integer(now)])
        }
    }

    func deleteSigningKey(kid: String) throws {
        try database.run("DELETE FROM signing_keys WHERE kid = ?", bindings: [.text(kid)])
    }

    // MARK: Row mapping

    private static func insert(_ u: User, into tx: SQLiteTransaction) throws {
        try tx.run("INSERT INTO users (id, tenant_id, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            bindings: [.text(u.id), .text(u.tenantID), .text(u.email), .text(u.passwordHash), .text(u.role.rawValue), .integer(u.createdAt)])
    }

    private static func tenant(_ r: SQLiteRow) -> Tenant? {
        guard let id = r.string("id"), let name = r.string("name"), let plan = r.string("plan"), let c = r.int64("created_at") else { return nil }
        return Tenant(id: id, name: name, plan: plan, createdAt: c)
    }

    private static func user(_ r: SQLiteRow) -> User? {
        guard let id = r.string("id"), let t = r.string("tenant_id"), let e = r.string("email"), let h = r.string("password_hash"),
            let role = r.string("role").flatMap(Role.init(rawValue:)), let c = r.int64("created_at")
        else { return nil }
        return User(id: id, tenantID: t, email: e, passwordHash: h, role: role, createdAt: c)
    }

    private static func plan(_ r: SQLiteRow) -> PlanLimits? {
        guard let name = r.string("name"), let b = r.int64("ai_budget_micro_usd_per_day"), let c = r.int64("ai_cost_micro_usd_per_minute"),
            let rpm = r.int64("requests_per_minute"), let tpm = r.int64("tokens_per_minute"), let j = r.int64("max_concurrent_jobs")
        else { return nil }
        return PlanLimits(name: name, aiBudgetMicroUsdPerDay: b, aiCostMicroUsdPerMinute: c, requestsPerMinute: rpm, tokensPerMinute: tpm, maxConcurrentJobs: j)
    }

    private static func apiKey(_ r: SQLiteRow) -> APIKeyRecord? {
        guard let id = r.string("id"), let t = r.string("tenant_id"), let n = r.string("name"), let p = r.string("prefix"),
            let h = r.blob("secret_hash"), let s = r.string("scopes"), let by = r.string("created_by"), let c = r.int64("created_at")
        else { return nil }
        return APIKeyRecord(id: id, tenantID: t, name: n, prefix: p, secretHash: h, scopes: decodeList(s), createdBy: by,
            createdAt: c, expiresAt: r.int64("expires_at"), revokedAt: r.int64("revoked_at"))
    }

    private static func encodeList(_ list: [String]) -> String {
        (try? String(decoding: JSONEncoder().encode(list), as: UTF8.self)) ?? "[]"
    }

    private static func decodeList(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}
