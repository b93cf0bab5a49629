import BulkheadHTTP

/// The broker's HTTP API under `/internal/v1` (documented in the service README).
enum BrokerRoutes {
    /// Body limits: a send carries at most a 1 MiB message plus its envelope; a batch ten.
    static let sendLimit = 1_200_000
    static let batchLimit = 4 * 1024 * 1024
    static let smallLimit = 64 * 1024

    static func add(to r: inout Router, broker: Broker) {
        let q = "/internal/v1/queues/{queue}"

        r.get("/internal/v1/queues") { _, _ in
            let names = await broker.queueNames()
            return ResponseRendering.json("{\"queues\":[\(names.map(JSONText.quoted).joined(separator: ","))]}")
        }
        r.put(q, bodyLimit: smallLimit) { req, ctx in
            let name = try ctx.parameter("queue")
            let settings = try RequestDecoding.decode(QueueSettings.self, from: req.body, emptyAs: QueueSettings())
            try rejectUnknownSettings(req.body)
            let created = try await mapped { try await broker.putQueue(name, settings: settings) }
            return try await queueDocument(broker, name, status: created ? .created : .ok)
        }
        r.get(q) { _, ctx in try await queueDocument(broker, try ctx.parameter("queue"), status: .ok) }
        r.delete(q) { _, ctx in
            let name = try ctx.parameter("queue")
            try await mapped { try await broker.deleteQueue(name) }
            return HTTPResponse(status: .noContent)
        }
        r.get(q + "/stats") { _, ctx in
            let name = try ctx.parameter("queue")
            return ResponseRendering.encodable(try await mapped { try await broker.stats(name) })
        }
        r.get("/internal/v1/stats") { _, _ in
            let all = await broker.allStats()
            return ResponseRendering.encodable(["queues": all])
        }

        r.post(q + "/messages", bodyLimit: sendLimit) { req, ctx in
            let name = try ctx.parameter("queue")
            let message = try SendRequest.parse(req.body)
            let out = try await mapped { try await broker.send(name, [try message.outgoing()]) }
            guard let first = out.first else { throw HTTPError(.internalServerError, code: "internal", message: "No result.") }
            return ResponseRendering.json("{\"id\":\(first.id),\"duplicate\":\(first.duplicate)}", status: first.duplicate ? .ok : .created)
        }
        r.post(q + "/messages/batch", bodyLimit: batchLimit) { req, ctx in
            let name = try ctx.parameter("queue")
            let batch = try SendBatchRequest.parse(req.body)
            guard (1...10).contains(batch.messages.count) else {
                throw HTTPError(.unprocessableContent, code: "batch_size", message: "A batch holds 1–10 messages, got \(batch.messages.count).")
            }
            let out = try await mapped { try await broker.send(name, try batch.messages.map { m throws(BrokerError) in try m.outgoing() }) }
            let items = out.map { "{\"id\":\($0.id),\"duplicate\":\($0.duplicate)}" }.joined(separator: ",")
            return ResponseRendering.json("{\"results\":[\(items)]}")
        }
        r.post(q + "/receive", bodyLimit: smallLimit) { req, ctx in
            let name = try ctx.parameter("queue")
            let r = try RequestDecoding.decode(ReceiveRequest.self, from: req.body, emptyAs: ReceiveRequest())
            let got = try await mapped {
                try await broker.receive(name, max: r.maxMessages, visibilitySeconds: r.visibilityTimeoutSeconds, waitSeconds: r.waitSeconds)
            }
            return ResponseRendering.messages(got.map { ($0.message, $0.receipt) })
        }
        r.post(q + "/ack", bodyLimit: smallLimit) { req, ctx in
            let name = try ctx.parameter("queue")
            let l = try RequestDecoding.decode(LeaseRequest.self, from: req.body)
            if let receipts = l.receipts {
                guard (1...100).contains(receipts.count) else {
                    throw HTTPError(.unprocessableContent, code: "batch_size", message: "'receipts' holds 1–100 receipts, got \(receipts.count).")
                }
                let results = try await mapped { try await broker.ack(name, receipts: receipts) }
                let items = zip(receipts, results).map { r, e in
                    e.map { "{\"receipt\":\(JSONText.quoted(r)),\"ok\":false,\"error\":{\"code\":\(JSONText.quoted($0.code)),\"message\":\(JSONText.quoted($0.message))}}" }
                        ?? "{\"receipt\":\(JSONText.quoted(r)),\"ok\":true}"
                }
                return ResponseRendering.json("{\"results\":[\(items.joined(separator: ","))]}")
            }
            try await mapped { try await broker.ack(name, receipt: try l.single()) }
            return HTTPResponse(status: .noContent)
        }
        r.post(q + "/extend", bodyLimit: smallLimit) { req, ctx in
            let name = try ctx.parameter("queue")
            let l = try RequestDecoding.decode(LeaseRequest.self, from: req.body)
            guard let seconds = l.visibilityTimeoutSeconds else {
                throw HTTPError(.unprocessableContent, code: "missing_field", message: "Field 'visibility_timeout_seconds' is required.")
            }
            let until = try await mapped { try await broker.extend(name, receipt: try l.single(), seconds: seconds) }
            return ResponseRendering.json("{\"lease_expires_at\":\(until)}")
        }
        r.post(q + "/nack", bodyLimit: smallLimit) { req, ctx in
            let name = try ctx.parameter("queue")
            let l = try RequestDecoding.decode(LeaseRequest.self, from: req.body)
            let at = try await mapped { try await broker.nack(name, receipt: try l.single(), delaySeconds: l.delaySeconds) }
            return ResponseRendering.json("{\"visible_at\":\(at)}")
        }
        r.post(q + "/release", bodyLimit: smallLimit) { req, ctx in
            let name = try ctx.parameter("queue")
            let l = try RequestDecoding.decode(LeaseRequest.self, from: req.body)
            try await mapped { try await broker.release(name, receipt: try l.single()) }
            return HTTPResponse(status: .noContent)
        }

        r.get(q + "/dead-letters") { req, ctx in
            let name = try ctx.parameter("queue")
            let limit = try intQuery(req, "limit", default: 100, range: 1...1000)
            let dead = try await mapped { try await broker.deadLetters(name, limit: limit) }
            return ResponseRendering.messages(dead.map { ($0, nil) })
        }
        r.post(q + "/dead-letters/redrive", bodyLimit: smallLimit) { req, ctx in
            let name = try ctx.parameter("queue")
            let limit = try intQuery(req, "limit", default: 1000, range: 1...100_000)
            let n = try await mapped { try await broker.redrive(name, limit: limit) }
            return ResponseRendering.json("{\"redriven\":\(n)}")
        }
        r.delete(q + "/dead-letters") { _, ctx in
            let name = try ctx.parameter("queue")
            let n = try await mapped { try await broker.purgeDeadLetters(name) }
            return ResponseRendering.json("{\"purged\":\(n)}")
        }
        r.delete(q + "/dead-letters/{id}") { _, ctx in
            let name = try ctx.parameter("queue")
            guard let id = Int64(try ctx.parameter("id")), id > 0 else {
                throw HTTPError(.badRequest, code: "invalid_parameter", message: "A dead letter's id is a positive integer.")
            }
            guard try await mapped({ try await broker.deleteDeadLetter(name, id: id) }) else {
                throw HTTPError(.notFound, code: "message_not_found", message: "No dead letter \(id) in queue '\(name)'.")
            }
            return HTTPResponse(status: .noContent)
        }

        let s = "/internal/v1/streams/{key}"
        r.post(s + "/events", bodyLimit: batchLimit) { req, ctx in
            let key = try ctx.parameter("key")
            let a = try RequestDecoding.decode(AppendRequest.self, from: req.body)
            guard (1...100).contains(a.events.count) else {
                throw HTTPError(.unprocessableContent, code: "batch_size", message: "Append 1–100 events at once, got \(a.events.count).")
            }
            let items = a.events.map { (type: $0.type, data: $0.data.bytes) }
            for i in items where i.data.count > 256 * 1024 || (i.type?.utf8.count ?? 0) > 64 {
                throw HTTPError(.payloadTooLarge, code: "message_too_large", message: "An event's data is limited to 256 KiB and its type to 64 bytes.")
            }
            let ids = try await mapped { try await broker.append(key, items) }
            return ResponseRendering.json("{\"ids\":[\(ids.map(String.init).joined(separator: ","))]}", status: .created)
        }
        r.get(s + "/events") { req, ctx in
            let key = try ctx.parameter("key")
            // `Last-Event-ID` resumes an SSE reader exactly where it stopped.
            let afterText = req.queryParameters["after"] ?? req.headers.first("last-event-id") ?? "0"
            guard let after = Int64(afterText), after >= 0 else {
                throw HTTPError(.badRequest, code: "invalid_parameter", message: "'after' must be a non-negative integer event id.")
            }
            let limit = try intQuery(req, "limit", default: 100, range: 1...1000)
            let wait = try doubleQuery(req, "wait_seconds", default: 0)
            let types = try typesQuery(req)
            let page = try await mapped { try await broker.read(key, after: after, limit: limit, waitSeconds: wait, types: types) }
            return ResponseRendering.events(page.events, lastID: page.lastID)
        }
        r.delete(s) { _, ctx in
            let key = try ctx.parameter("key")
            let existed = try await mapped { try await broker.deleteStream(key) }
            guard existed else { throw HTTPError(.notFound, code: "stream_not_found", message: "No stream '\(key)'.") }
            return HTTPResponse(status: .noContent)
        }
    }

    /// Runs `body`, turning `BrokerError`s into `HTTPError`s.
    static func mapped<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as BrokerError { throw e.httpError }
    }

    static func queueDocument(_ broker: Broker, _ name: String, status: HTTPStatus) async throws -> HTTPResponse {
        let (settings, stats) = try await mapped { (try await broker.settings(name), try await broker.stats(name)) }
        let s = (try? JSONCoding.encoder.encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let t = (try? JSONCoding.encoder.encode(stats)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ResponseRendering.json("{\"name\":\(JSONText.quoted(name)),\"settings\":\(s),\"stats\":\(t)}", status: status)
    }

    static func rejectUnknownSettings(_ body: [UInt8]) throws {
        guard !body.isEmpty else { return }
        struct Probe: Decodable {
            init(from decoder: any Decoder) throws {
                try decoder.rejectUnknownKeys([
                    "visibility_timeout_seconds", "max_receives", "dead_letter_queue", "retention_seconds", "max_message_bytes",
                    "default_delay_seconds", "nack_backoff_base_seconds", "nack_backoff_max_seconds",
                ])
            }
        }
        _ = try RequestDecoding.decode(Probe.self, from: body)
    }

    static func intQuery(_ req: HTTPRequest, _ name: String, default d: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = req.queryParameters[name] else { return d }
        guard let v = Int(raw), range.contains(v) else {
            throw HTTPError(.badRequest, code: "invalid_parameter", message: "'\(name)' must be an integer in \(range.lowerBound)–\(range.upperBound).")
        }
        return v
    }

    static func doubleQuery(_ req: HTTPRequest, _ name: String, default d: Double) throws -> Double {
        guard let raw = req.queryParameters[name] else { return d }
        guard let v = Double(raw), v.isFinite else {
            throw HTTPError(.badRequest, code: "invalid_parameter", message: "'\(name)' must be a number of seconds.")
        }
        return v
    }

    /// `types=a,b`: 1–16 event types of 1–64 bytes each; nil when absent.
    static func typesQuery(_ req: HTTPRequest) throws -> Set<String>? {
        guard let raw = req.queryParameters["types"] else { return nil }
        let types = raw.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard (1...16).contains(types.count), types.allSatisfy({ (1...64).contains($0.utf8.count) }) else {
            throw HTTPError(
                .badRequest, code: "invalid_parameter", message: "'types' must list 1–16 comma-separated event types of 1–64 bytes each.")
        }
        return Set(types)
    }
}
