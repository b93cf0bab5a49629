import BulkheadHTTP
import Foundation
import Synchronization

/// Keeps the api-core responses a stack's tests see, so the OpenAPI test can validate real
/// responses against the document.
final class Recorder: Sendable {
    private let replies = Mutex<[APIStack.Reply]>([])

    func record(_ reply: APIStack.Reply) {
        replies.withLock { r in if r.count < 2000 { r.append(reply) } }
    }

    /// Adds a pseudo-response whose body is a list of messages (SSE event data or WebSocket
    /// messages) for the checker to validate one by one.
    func record(method: String, path: String, status: Int, contentType: String, messages: [String]) {
        let body = "[" + messages.joined(separator: ",") + "]"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        record(APIStack.Reply(method: method, path: path, status: status, headers: headers, body: Array(body.utf8)))
    }

    var all: [APIStack.Reply] { replies.withLock { $0 } }

    /// The checker's input file.
    func json(_ replies: [APIStack.Reply]) throws -> Data {
        try JSONSerialization.data(withJSONObject: replies.map { r -> [String: Any] in
            ["method": r.method, "path": r.path, "status": r.status, "content_type": r.header("content-type") ?? "", "body": r.text]
        })
    }
}
