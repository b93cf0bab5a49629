import BulkheadStorage
import Shared

/// Usage records (`usage-records` queue) in `DATA_DIR/usage.sqlite`, one row per AI call,
/// idempotent on the record id (the queue delivers at least once).
final class UsageStore: Sendable {
    let database: SQLiteDatabase

    static let migrations = Migrator([
        Migration(
            version: 1, name: "usage",
            sql: """
                CREATE TABLE usage (
                    id TEXT PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    subject_kind TEXT NOT NULL,
                    model TEXT NOT NULL,
                    deployment TEXT NOT NULL,
                    prompt_tokens INTEGER NOT NULL,
                    completion_tokens INTEGER NOT NULL,
                    total_tokens INTEGER NOT NULL,
                    cached_prompt_tokens INTEGER NOT NULL,
                    cost_micro_usd INTEGER NOT NULL,
                    saved_cost_micro_usd INTEGER NOT NULL,
                    cache TEXT,
                    job_id TEXT,
                    at INTEGER NOT NULL,
                    day TEXT NOT NULL
                );
                CREATE INDEX usage_by_tenant_day ON usage (tenant, day);
                """)
    ])

    init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        _ = try Self.migrations.migrate(database)
    }

    /// Inserts records, skipping ids already stored; returns how many were new.
    @discardableResult
    func insert(_ records: [UsageRecord]) throws -> Int {
        try database.transaction { tx in
            var added = 0
            for r in records {
                added += try tx.run(
                    """
                    INSERT OR IGNORE INTO usage (id, tenant, subject, subject_kind, model, deployment, prompt_tokens, completion_tokens,
                        total_tokens, cached_prompt_tokens, cost_micro_usd, saved_cost_micro_usd, cache, job_id, at, day)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    bindings: [
                        .text(r.id), .text(r.tenant), .text(r.subject), .text(r.subjectKind.rawValue), .text(r.model), .text(r.deployment),
                        .init(r.usage.promptTokens), .init(r.usage.completionTokens), .init(r.usage.totalTokens),
                        .init(r.usage.cachedPromptTokens), .integer(r.costMicroUSD), .integer(r.savedCostMicroUSD), .init(r.cache),
                        .init(r.jobID), .integer(r.at), .text(Timestamps.day(r.at)),
                    ]
                ).changes
            }
            return added
        }
    }

    /// The tenant's spend on one UTC day.
    func cost(tenant: String, day: String) throws -> Int64 {
        try database.queryFirst(
            "SELECT COALESCE(SUM(cost_micro_usd), 0) AS c FROM usage WHERE tenant = ? AND day = ?", bindings: [.text(tenant), .text(day)]
        )?.int64("c") ?? 0
    }

    /// Totals of one group (or of everything).
    struct Totals: Sendable, Equatable {
        var requests: Int64 = 0
        var promptTokens: Int64 = 0
        var completionTokens: Int64 = 0
        var totalTokens: Int64 = 0
        var costMicroUSD: Int64 = 0
        var savedCostMicroUSD: Int64 = 0
        var cacheHits: Int64 = 0

        init() {}
        init(row: SQLiteRow) {
            requests = row.int64("requests") ?? 0
            promptTokens = row.int64("prompt_tokens") ?? 0
            completionTokens = row.int64("completion_tokens") ?? 0
            totalTokens = row.int64("total_tokens") ?? 0
            costMicroUSD = row.int64("cost_micro_usd") ?? 0
            savedCostMicroUSD = row.int64("saved_cost_micro_usd") ?? 0
            cacheHits = row.int64("cache_hits") ?? 0
        }

        var json: [String: JSONValue] {
            [
                "requests": .number(Double(requests)), "prompt_tokens": .number(Double(promptTokens)),
                "completion_tokens": .number(Double(completionTokens)), "total_tokens": .number(Double(totalTokens)),
                "cost_micro_usd": .number(Double(costMicroUSD)), "saved_cost_micro_usd": .number(Double(savedCostMicroUSD)),
                "cache_hits": .number(Double(cacheHits)),
            ]
        }
    }

    enum Grouping: String, Sendable { case model, day }

    private static let sums = """
        COUNT(*) AS requests, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens, COALESCE(SUM(completion_tokens), 0) AS completion_tokens,
        COALESCE(SUM(total_tokens), 0) AS total_tokens, COALESCE(SUM(cost_micro_usd), 0) AS cost_micro_usd,
        COALESCE(SUM(saved_cost_micro_usd), 0) AS saved_cost_micro_usd, COALESCE(SUM(cache IS NOT NULL), 0) AS cache_hits
        """

    /// Totals and per-group figures of a tenant between two UTC days (inclusive).
    func report(tenant: String, from: String, to: String, groupBy: Grouping) throws -> (totals: Totals, groups: [(String, Totals)]) {
        let bindings: [SQLiteValue] = [.text(tenant), .text(from), .text(to)]
        let totals = try database.queryFirst(
            "SELECT \(Self.sums) FROM usage WHERE tenant = ? AND day BETWEEN ? AND ?", bindings: bindings
        ).map(Totals.init(row:)) ?? Totals()
        let column = groupBy == .model ? "model" : "day"
        let groups = try database.query(
            "SELECT \(column) AS key, \(Self.sums) FROM usage WHERE tenant = ? AND day BETWEEN ? AND ? GROUP BY \(column) ORDER BY \(column)",
            bindings: bindings
        ).map { ($0.string("key") ?? "", Totals(row: $0)) }
        return (totals, groups)
    }
}
