import BulkheadHTTP

/// The cache's entry, lookup, invalidation and stats routes under `/internal/v1/cache`
/// (documented in the service README).
enum CacheRoutes {
    /// Longest `text` embedded for a store or lookup.
    static let maxTextBytes = 32 * 1024
    /// Lookup bodies: a vector of up to 4096 numbers as text, or a text.
    static let lookupBodyLimit = 256 * 1024

    static func add(to r: inout Router, store: CacheStore, settings: CacheSettings, embedder: EmbeddingClient) {
        let base = "/internal/v1/cache"
        let ns = base + "/{tenant}/{namespace}"
        // Room for the largest entry plus its JSON escaping and a long vector as text.
        let putLimit = settings.maxEntryBytes * 2 + 256 * 1024

        r.get(base + "/stats") { _, _ in JSONOut.encodable(await store.totalStats()) }

        r.put(ns + "/entries/{key}", bodyLimit: putLimit) { req, ctx in
            let id = try namespaceID(ctx)
            let key = try ctx.parameter("key")
            try mapped { () throws(CacheError) in try Names.check(key, .key) }
            let body = try RequestDecoding.decode(PutEntryBody.self, from: req.body)
            guard let response = body.response, response != .null else {
                throw CacheError.missingField("response", "is required (the JSON to return on a hit)").httpError
            }
            if let c = body.costMicroUSD, c < 0 { throw CacheError.invalidField("cost_micro_usd", "must be ≥ 0").httpError }
            if let t = body.ttlSeconds, t < 1 { throw CacheError.invalidField("ttl_seconds", "must be ≥ 1").httpError }
            var vector = try floats(body.vector)
            if vector == nil, let text = body.text {
                try checkText(text)
                vector = try await mapped { () async throws(CacheError) in try await embedder.embed(text, traceparent: ctx.trace.traceparentValue) }
            }
            let input = PutInput(
                namespace: id, key: key, vector: vector, response: JSONOut.bytes(response),
                usage: body.usage.flatMap { $0 == .null ? nil : JSONOut.bytes($0) }, costMicroUSD: body.costMicroUSD ?? 0,
                ttlSeconds: body.ttlSeconds)
            let result = try await mapped { () async throws(CacheError) in try await store.put(input) }
            return JSONOut.response(
                "{\"key\":\(JSONText.quoted(key)),\"namespace\":\(JSONText.quoted(id.namespace)),\"tenant\":\(JSONText.quoted(id.tenant)),"
                    + "\"bytes\":\(result.bytes),\"expires_at\":\(result.expiresAt)}",
                status: result.created ? .created : .ok)
        }

        r.post(ns + "/lookup", bodyLimit: lookupBodyLimit) { req, ctx in
            let id = try namespaceID(ctx)
            let body = try RequestDecoding.decode(LookupBody.self, from: req.body)
            if let key = body.key { try mapped { () throws(CacheError) in try Names.check(key, .key) } }
            let threshold = body.threshold ?? settings.similarityThreshold
            guard threshold.isFinite, (-1...1).contains(threshold) else {
                throw CacheError.invalidField("threshold", "must be a cosine similarity between -1 and 1").httpError
            }
            guard body.key != nil || body.vector != nil || body.text != nil else {
                throw CacheError.missingField("key", "or 'vector' or 'text' is required").httpError
            }
            let exactOnly = body.exactOnly ?? false
            var query = LookupInput(namespace: id, key: body.key, vector: try floats(body.vector), threshold: threshold, exactOnly: exactOnly)
            // As for stores, a given vector wins over `text` (no embedding call).
            if let text = body.text, body.vector == nil, !exactOnly {
                try checkText(text)
                // The exact key first: a hit there needs no embedding call.
                var probe = query
                probe.countMiss = false
                let first = try await mapped { () async throws(CacheError) in try await store.lookup(probe) }
                if case .hit = first { return render(first) }
                let vector = try await mapped { () async throws(CacheError) in try await embedder.embed(text, traceparent: ctx.trace.traceparentValue) }
                query.key = nil
                query.vector = vector
            }
            let q = query
            return render(try await mapped { () async throws(CacheError) in try await store.lookup(q) })
        }

        r.get(ns + "/entries/{key}") { _, ctx in
            let id = try namespaceID(ctx)
            let key = try ctx.parameter("key")
            try mapped { () throws(CacheError) in try Names.check(key, .key) }
            let e = try await mapped { () async throws(CacheError) in try await store.entry(id, key: key) }
            return JSONOut.entry(e, in: id)
        }

        r.delete(ns + "/entries/{key}") { _, ctx in
            let id = try namespaceID(ctx)
            let key = try ctx.parameter("key")
            try mapped { () throws(CacheError) in try Names.check(key, .key) }
            guard try await mapped({ () async throws(CacheError) in try await store.delete(id, key: key) }) else {
                throw CacheError.entryNotFound(key).httpError
            }
            return HTTPResponse(status: .noContent)
        }

        r.get(ns) { _, ctx in
            let id = try namespaceID(ctx)
            return JSONOut.encodable(try await mapped { () async throws(CacheError) in try await store.namespaceStats(id) })
        }

        r.delete(ns) { _, ctx in
            let id = try namespaceID(ctx)
            guard let n = await store.deleteNamespace(id) else { throw CacheError.namespaceNotFound(id.tenant, id.namespace).httpError }
            return JSONOut.response("{\"deleted_entries\":\(n)}")
        }

        r.delete(base + "/{tenant}") { _, ctx in
            let tenant = try ctx.parameter("tenant")
            try mapped { () throws(CacheError) in try Names.check(tenant, .tenant) }
            return JSONOut.response("{\"deleted_entries\":\(await store.deleteTenant(tenant))}")
        }
    }

    static func render(_ outcome: LookupOutcome) -> HTTPResponse {
        switch outcome {
        case .hit(let kind, let similarity, let entry):
            return JSONOut.hit(kind: kind, similarity: similarity, entry: entry)
        case .miss(let best):
            return JSONOut.response("{\"hit\":false,\"best_similarity\":\(best.map(JSONOut.number) ?? "null")}")
        }
    }

    static func namespaceID(_ ctx: RequestContext) throws -> NamespaceID {
        let tenant = try ctx.parameter("tenant")
        let namespace = try ctx.parameter("namespace")
        try mapped { () throws(CacheError) in
            try Names.check(tenant, .tenant)
            try Names.check(namespace, .namespace)
        }
        return NamespaceID(tenant: tenant, namespace: namespace)
    }

    /// JSON numbers to Float32; a number beyond Float's range is an invalid vector.
    static func floats(_ values: [Double]?) throws -> [Float]? {
        guard let values else { return nil }
        var out = [Float]()
        out.reserveCapacity(values.count)
        for (i, d) in values.enumerated() {
            let f = Float(d)
            guard f.isFinite else { throw CacheError.invalidVector("'vector[\(i)]' (\(d)) is outside the Float32 range.").httpError }
            out.append(f)
        }
        return out
    }

    static func checkText(_ text: String) throws {
        guard !text.isEmpty, text.utf8.count <= maxTextBytes else {
            throw CacheError.invalidField("text", "must hold 1–\(maxTextBytes) bytes").httpError
        }
    }

    /// Runs `body`, turning `CacheError` into `HTTPError`.
    static func mapped<T>(_ body: () throws(CacheError) -> T) throws(HTTPError) -> T {
        do { return try body() } catch { throw error.httpError }
    }

    static func mapped<T: Sendable>(_ body: () async throws(CacheError) -> T) async throws(HTTPError) -> T {
        do { return try await body() } catch { throw error.httpError }
    }
}
