import BulkheadStorage
import Foundation
import Shared

/// Jobs and idempotency keys in `DATA_DIR/jobs.sqlite`, a file of its own (settings never wait
/// on it). Writes are short statements; callers run them through `BlockingWork`.
final class JobStore: Sendable {
    let database: SQLiteDatabase
    /// How long an `Idempotency-Key` maps to its job.
    static let idempotencyWindowMillis: Int64 = 24 * 3_600_000

    static let migrations = Migrator([
        Migration(
            version: 1, name: "jobs",
            sql: """
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    subject_kind TEXT NOT NULL,
                    plan TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    model TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    input TEXT NOT NULL,
                    parameters TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    result TEXT,
                    prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER,
                    cached_prompt_tokens INTEGER, usage_estimated INTEGER,
                    cost_micro_usd INTEGER, saved_cost_micro_usd INTEGER, cache TEXT,
                    error_code TEXT, error_message TEXT, worker TEXT,
                    cancel_requested_at INTEGER,
                    created_at INTEGER NOT NULL,
                    queued_at INTEGER, started_at INTEGER, first_token_at INTEGER, completed_at INTEGER,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX jobs_by_tenant ON jobs (tenant, created_at DESC, id DESC);
                CREATE INDEX jobs_active ON jobs (tenant, status);
                CREATE TABLE idempotency_keys (
                    tenant TEXT NOT NULL,
                    key TEXT NOT NULL,
                    body_hash TEXT NOT NULL,
                    job_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, key)
                );
                """)
    ])

    init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        _ = try Self.migrations.migrate(database)
    }

    /// A job to insert.
    struct NewJob: Sendable {
        var id: String
        var tenant: String
        var subject: String
        var subjectKind: Principal.Kind
        var plan: String
        var request: JobRequest
        var now: Int64
    }

    enum SubmitOutcome: Sendable {
        case created(JobRecord)
        /// The same `Idempotency-Key` and body were seen: the earlier job.
        case replay(JobRecord)
        /// The same key came with another body.
        case keyReused
        /// The tenant already has this many queued or running jobs.
        case concurrencyLimit(active: Int)
    }

    /// Checks the key and the tenant's concurrency and inserts, all in one transaction so two
    /// racing submits cannot both squeeze under the limit or both claim one key.
    func submit(_ job: NewJob, idempotency: (key: String, bodyHash: String)?, maxConcurrent: Int) throws -> SubmitOutcome {
        try database.transaction { tx -> SubmitOutcome in
            if let idempotency {
                if let row = try tx.query(
                    "SELECT body_hash, job_id, created_at FROM idempotency_keys WHERE tenant = ? AND key = ?",
                    bindings: [.text(job.tenant), .text(idempotency.key)]
                ).first, (row.int64("created_at") ?? 0) > job.now - Self.idempotencyWindowMillis {
                    guard row.string("body_hash") == idempotency.bodyHash else { return .keyReused }
                    if let existing = try Self.job(tx, id: row.string("job_id") ?? "", tenant: job.tenant) { return .replay(existing) }
                }
            }
            let active = try tx.query(
                "SELECT COUNT(*) AS n FROM jobs WHERE tenant = ? AND status IN ('queued', 'running')", bindings: [.text(job.tenant)]
            ).first?.int("n") ?? 0
            if active >= maxConcurrent { return .concurrencyLimit(active: active) }
            let r = job.request
            try tx.run(
                """
                INSERT INTO jobs (id, tenant, subject, subject_kind, plan, kind, model, priority, status, input, parameters, metadata,
                    created_at, queued_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
                """,
                bindings: [
                    .text(job.id), .text(job.tenant), .text(job.subject), .text(job.subjectKind.rawValue), .text(job.plan),
                    .text(r.kind.rawValue), .text(r.model), .integer(Int64(r.priority)), .text(JSONInput.text(r.input)),
                    .text(JSONInput.text(r.parameters)), .text(JSONInput.text(r.metadata)), .integer(job.now), .integer(job.now),
                    .integer(job.now),
                ])
            if let idempotency {
                try tx.run(
                    """
                    INSERT INTO idempotency_keys (tenant, key, body_hash, job_id, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(tenant, key) DO UPDATE SET body_hash = excluded.body_hash, job_id = excluded.job_id,
                        created_at = excluded.created_at
                    """, bindings: [.text(job.tenant), .text(idempotency.key), .text(idempotency.bodyHash), .text(job.id), .integer(job.now)])
            }
            guard let created = try Self.job(tx, id: job.id, tenant: job.tenant) else {
                throw StoreFailure(description: "inserted job \(job.id) not found")
            }
            return .created(created)
        }
    }

    struct StoreFailure: Error, CustomStringConvertible { var description: String }

    /// Removes a job that could not be queued (and its key), so the client may simply retry.
    func remove(id: String, tenant: String) throws {
        try database.transaction { tx in
            try tx.run("DELETE FROM idempotency_keys WHERE tenant = ? AND job_id = ?", bindings: [.text(tenant), .text(id)])
            try tx.run("DELETE FROM jobs WHERE id = ? AND tenant = ?", bindings: [.text(id), .text(tenant)])
        }
    }

    /// A job of `tenant` (nil for a missing id and for another tenant's job alike).
    func job(id: String, tenant: String) throws -> JobRecord? {
        try Self.job(database, id: id, tenant: tenant)
    }

    private static func job(_ db: some SQLiteExecutor, id: String, tenant: String) throws -> JobRecord? {
        try db.query("SELECT * FROM jobs WHERE id = ? AND tenant = ?", bindings: [.text(id), .text(tenant)]).first.map(JobRecord.init(row:))
    }

    /// A page of the tenant's jobs, newest first, after the `(created_at, id)` position.
    func list(tenant: String, status: AIJobStatus?, after: (createdAt: Int64, id: String)?, limit: Int) throws -> [JobRecord] {
        var sql = "SELECT * FROM jobs WHERE tenant = ?"
        var bindings: [SQLiteValue] = [.text(tenant)]
        if let status {
            sql += " AND status = ?"
            bindings.append(.text(status.rawValue))
        }
        if let after {
            sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
            bindings += [.integer(after.createdAt), .integer(after.createdAt), .text(after.id)]
        }
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        bindings.append(.integer(Int64(limit)))
        return try database.query(sql, bindings: bindings).map(JobRecord.init(row:))
    }

    /// Cancels a queued job at once; returns the record after the attempt (nil when unknown).
    /// A running job only gets `cancel_requested_at` set: the worker decides when it stops.
    func cancel(id: String, tenant: String, now: Int64) throws -> (before: AIJobStatus, after: JobRecord)? {
        try database.transaction { tx -> (AIJobStatus, JobRecord)? in
            guard let current = try Self.job(tx, id: id, tenant: tenant) else { return nil }
            switch current.status {
            case .queued:
                try tx.run(
                    """
                    UPDATE jobs SET status = 'cancelled', cancel_requested_at = ?, completed_at = ?, updated_at = ?,
                        error_code = 'cancelled', error_message = 'The job was cancelled before it started.'
                    WHERE id = ? AND status = 'queued'
                    """, bindings: [.integer(now), .integer(now), .integer(now), .text(id)])
            case .running:
                try tx.run(
                    "UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, ?), updated_at = ? WHERE id = ?",
                    bindings: [.integer(now), .integer(now), .text(id)])
            default:
                return (current.status, current)
            }
            guard let after = try Self.job(tx, id: id, tenant: tenant) else { return nil }
            return (current.status, after)
        }
    }

    /// Applies a worker's status update. Idempotent: a terminal status is never overwritten and
    /// `running` only replaces `queued`. Returns the new status when the record changed.
    @discardableResult
    func apply(_ update: AIJobUpdate, now: Int64) throws -> AIJobStatus? {
        let d = update.data
        guard let status = d.status else { return nil }
        let t = d.timing
        switch status {
        case .queued:
            return nil
        case .running:
            let r = try database.run(
                """
                UPDATE jobs SET status = 'running', worker = COALESCE(?, worker), started_at = COALESCE(?, started_at, ?),
                    updated_at = ? WHERE id = ? AND tenant = ? AND status = 'queued'
                """, bindings: [.init(d.worker), .init(t?.startedAt), .integer(now), .integer(now), .text(d.jobID), .text(update.tenant)])
            return r.changes > 0 ? .running : nil
        case .completed, .failed, .cancelled:
            let u = d.usage
            let r = try database.run(
                """
                UPDATE jobs SET status = ?, result = COALESCE(?, result),
                    prompt_tokens = COALESCE(?, prompt_tokens), completion_tokens = COALESCE(?, completion_tokens),
                    total_tokens = COALESCE(?, total_tokens), cached_prompt_tokens = COALESCE(?, cached_prompt_tokens),
                    usage_estimated = COALESCE(?, usage_estimated),
                    cost_micro_usd = COALESCE(?, cost_micro_usd), saved_cost_micro_usd = COALESCE(?, saved_cost_micro_usd),
                    cache = COALESCE(?, cache), error_code = ?, error_message = ?, worker = COALESCE(?, worker),
                    queued_at = COALESCE(queued_at, ?), started_at = COALESCE(?, started_at),
                    first_token_at = COALESCE(?, first_token_at), completed_at = COALESCE(?, completed_at, ?), updated_at = ?
                WHERE id = ? AND tenant = ? AND status IN ('queued', 'running')
                """,
                bindings: [
                    .text(status.rawValue), .init(d.result.map(JSONInput.text)),
                    .init(u?.promptTokens), .init(u?.completionTokens), .init(u?.totalTokens), .init(u?.cachedPromptTokens),
                    .init(u?.estimated), .init(d.costMicroUSD), .init(d.savedCostMicroUSD), .init(d.cache),
                    .init(d.error?.code), .init(d.error?.message), .init(d.worker),
                    .init(t?.queuedAt), .init(t?.startedAt), .init(t?.firstTokenAt), .init(t?.completedAt), .integer(now), .integer(now),
                    .text(d.jobID), .text(update.tenant),
                ])
            return r.changes > 0 ? status : nil
        }
    }

    /// Queued and running jobs of a tenant.
    func activeCount(tenant: String) throws -> Int {
        try database.queryFirst(
            "SELECT COUNT(*) AS n FROM jobs WHERE tenant = ? AND status IN ('queued', 'running')", bindings: [.text(tenant)]
        )?.int("n") ?? 0
    }

    /// Drops idempotency keys past their window.
    func sweep(now: Int64) throws {
        try database.run("DELETE FROM idempotency_keys WHERE created_at <= ?", bindings: [.integer(now - Self.idempotencyWindowMillis)])
    }
}
