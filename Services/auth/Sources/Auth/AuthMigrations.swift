import BulkheadStorage

/// The schema, one versioned step at a time (never edit a shipped step; add one).
enum AuthMigrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "tenants_users_plans", sql: """
            CREATE TABLE plans (
                name TEXT PRIMARY KEY,
                ai_budget_micro_usd_per_day INTEGER NOT NULL,
                ai_cost_micro_usd_per_minute INTEGER NOT NULL,
                requests_per_minute INTEGER NOT NULL,
                tokens_per_minute INTEGER NOT NULL,
                max_concurrent_jobs INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            INSERT INTO plans VALUES ('free', 1000000, 100000, 60, 20000, 1, 0);
            INSERT INTO plans VALUES ('pro', 50000000, 2000000, 600, 200000, 10, 0);
            INSERT INTO plans VALUES ('enterprise', 1000000000, 20000000, 6000, 2000000, 100, 0);
            CREATE TABLE tenants (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                plan TEXT NOT NULL REFERENCES plans(name),
                created_at INTEGER NOT NULL
            );
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                email TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
                created_at INTEGER NOT NULL
            );
            CREATE INDEX users_tenant ON users(tenant_id);
            """),
        Migration(version: 2, name: "refresh_tokens", sql: """
            CREATE TABLE refresh_families (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                revoked_at INTEGER,
                revoked_reason TEXT,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE refresh_tokens (
                token_hash BLOB PRIMARY KEY,
                family_id TEXT NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
                expires_at INTEGER NOT NULL,
                used_at INTEGER,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
            """),
        Migration(version: 3, name: "api_keys", sql: """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                prefix TEXT NOT NULL UNIQUE,
                secret_hash BLOB NOT NULL,
                scopes TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER,
                revoked_at INTEGER
            );
            CREATE INDEX api_keys_tenant ON api_keys(tenant_id);
            """),
        Migration(version: 4, name: "signing_keys", sql: """
            CREATE TABLE signing_keys (
                kid TEXT PRIMARY KEY,
                created_at INTEGER NOT NULL,
                retired_at INTEGER
            );
            """),
    ]
}
