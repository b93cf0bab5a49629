import BulkheadHTTP

/// `POST /internal/v1/counters/apply` and `GET /internal/v1/counters/{key}` (see the README).
enum CounterRoutes {
    static let maxOps = 16
    static let maxAmount = 1_000_000_000_000
    static let maxTTLSeconds = 366 * 86_400

    static func add(to r: inout Router, counters: CounterStore, metrics: CacheMetrics) {
        r.post("/internal/v1/counters/apply", bodyLimit: 64 * 1024) { req, _ in
            let body = try RequestDecoding.decode(ApplyBody.self, from: req.body)
            guard (1...maxOps).contains(body.ops.count) else {
                throw HTTPError(.unprocessableContent, code: "invalid_field", message: "Field 'ops' must hold 1–\(maxOps) operations, got \(body.ops.count).")
            }
            var ops: [CounterOp] = []
            ops.reserveCapacity(body.ops.count)
            for (i, op) in body.ops.enumerated() { ops.append(try validate(op, at: i)) }
            let outcome = try CacheRoutes.mapped { () throws(CacheError) in try counters.apply(ops) }
            var allowedOps = 0
            var text = "{\"allowed\":\(outcome.allowed),\"results\":["
            for (i, res) in outcome.results.enumerated() {
                if i > 0 { text += "," }
                if res.allowed { allowedOps += 1 }
                text += "{\"key\":\(JSONText.quoted(res.key)),\"allowed\":\(res.allowed),\"value\":\(res.value),"
                text += "\"limit\":\(res.limit.map(String.init) ?? "null"),\"retry_after_ms\":\(res.retryAfterMs)}"
            }
            text += "]}"
            metrics.counterOps.labels("allowed").inc(by: allowedOps)
            metrics.counterOps.labels("refused").inc(by: outcome.results.count - allowedOps)
            return JSONOut.response(text)
        }

        r.get("/internal/v1/counters/{key...}") { _, ctx in
            let key = try ctx.parameter("key")
            try CacheRoutes.mapped { () throws(CacheError) in try Names.check(key, .counterKey) }
            guard let s = counters.snapshot(key) else {
                throw HTTPError(.notFound, code: "counter_not_found", message: "No live counter '\(key)'.")
            }
            let limitName = s.kind == .bucket ? "capacity" : "limit"
            return JSONOut.response(
                "{\"key\":\(JSONText.quoted(s.key)),\"kind\":\"\(s.kind.rawValue)\",\"value\":\(s.value),"
                    + "\"\(limitName)\":\(s.limit.map(String.init) ?? "null"),\"expires_at\":\(s.expiresAt)}")
        }
    }

    /// Checks one op's fields; errors name the op (`ops[2].capacity`).
    static func validate(_ op: ApplyBody.Op, at i: Int) throws -> CounterOp {
        func bad(_ field: String, _ why: String) -> HTTPError {
            HTTPError(.unprocessableContent, code: "invalid_field", message: "Field 'ops[\(i)].\(field)' \(why).")
        }
        try CacheRoutes.mapped { () throws(CacheError) in try Names.check(op.key, .counterKey) }
        guard let kind = CounterOp.Kind(rawValue: op.kind) else { throw bad("kind", "must be \"bucket\" or \"counter\"") }
        guard abs(op.amount) <= maxAmount else { throw bad("amount", "must be within ±\(maxAmount)") }
        guard (1...maxTTLSeconds).contains(op.ttlSeconds) else { throw bad("ttl_seconds", "must be 1–\(maxTTLSeconds)") }
        var capacity = 0
        var rate = 0.0
        switch kind {
        case .bucket:
            guard let c = op.capacity else {
                throw HTTPError(.unprocessableContent, code: "missing_field", message: "Field 'ops[\(i)].capacity' is required for a bucket.")
            }
            guard (1...maxAmount).contains(c) else { throw bad("capacity", "must be 1–\(maxAmount)") }
            guard let r = op.refillPerSecond else {
                throw HTTPError(.unprocessableContent, code: "missing_field", message: "Field 'ops[\(i)].refill_per_second' is required for a bucket.")
            }
            guard r.isFinite, r >= 0, r <= Double(maxAmount) else { throw bad("refill_per_second", "must be a number ≥ 0") }
            if op.limit != nil { throw bad("limit", "applies to counters only (a bucket has 'capacity')") }
            capacity = c
            rate = r
        case .counter:
            if op.capacity != nil || op.refillPerSecond != nil { throw bad(op.capacity != nil ? "capacity" : "refill_per_second", "applies to buckets only") }
            if let l = op.limit, l < 0 { throw bad("limit", "must be ≥ 0") }
        }
        return CounterOp(
            key: op.key, kind: kind, amount: op.amount, capacity: capacity, refillPerSecond: rate, limit: op.limit,
            ttlMs: Int64(op.ttlSeconds) * 1000, force: op.force ?? false)
    }
}
