import BulkheadHTTP
import BulkheadService
import Foundation
import Shared

extension APICoreAPI {
    var follower: JobEventFollower { JobEventFollower(broker: streamBroker, jobs: jobs, logger: logger) }

    /// `GET /v1/jobs/{id}/events` (SSE) and `GET /v1/stream` (WebSocket).
    func registerLiveRoutes(into router: inout Router) {
        router.get("/v1/jobs/{id}/events") { [self] request, context in
            let p = try Access.require(context, scope: "jobs:read")
            let job = try await job(try context.parameter("id"), tenant: p.tenant)
            let afterText = request.queryParameters["after"] ?? request.headers.first("last-event-id")
            var after: Int64 = 0
            if let afterText, !afterText.isEmpty {
                guard let n = Int64(afterText), n >= 0 else {
                    throw HTTPError.badRequest("Last-Event-ID / 'after' must be a non-negative event id.", code: "invalid_parameter")
                }
                after = n
            }
            let (follower, start) = (follower, after)
            let gauge = metrics.sseConnections
            return .serverSentEvents(heartbeat: settings.sseHeartbeat) { sse in
                gauge.inc()
                defer { gauge.dec() }
                try await follower.follow(jobID: job.id, tenant: job.tenant, after: start) { event in
                    try await sse.send(id: event.id.map(String.init), event: event.type, data: JSONInput.text(event.data))
                }
            }
        }
        router.get("/v1/stream") { [self] _, context in
            let p = try Access.require(context, scope: "jobs:read")
            let session = StreamSocket(
                tenant: p.tenant, follower: follower, jobs: jobs, maxSubscriptions: settings.maxSubscriptionsPerSocket)
            let gauge = metrics.webSocketConnections
            return HTTPResponse(body: .webSocket(WebSocketOptions(maxFrameSize: 64 * 1024, maxMessageSize: 64 * 1024, pingInterval: settings.webSocketPing)) { ws in
                gauge.inc()
                defer { gauge.dec() }
                await session.run(ws)
            })
        }
    }
}
