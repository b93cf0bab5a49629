import BulkheadHTTP
import BulkheadHTTPClient

/// Relays one WebSocket between the ingress's client (`WebSocketSession`, server side) and
/// the upstream (`WebSocketClientConnection`), whole messages at a time, both ways at once.
///
/// - Every send is awaited before the next message is read, so a slow reader on either
///   side slows the other down through TCP (both sides stop reading when their small
///   queues fill): nothing is buffered without bound.
/// - The closing handshake is passed through: the code (and reason) of whoever closes first
///   is sent to the other side. A client that vanishes, or an ingress shutting down, closes
///   the upstream with 1001; an upstream that vanishes closes the client with 1011, or 1009
///   when it sent a message over the relay's limits.
/// - Pings are answered by each side's runtime; they do not cross the relay.
enum WebSocketRelay {
    /// Runs until both directions have ended.
    static func run(client: WebSocketSession, upstream: WebSocketClientConnection) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await upstreamToClient(client: client, upstream: upstream) }
            group.addTask { await clientToUpstream(client: client, upstream: upstream) }
        }
    }

    static func upstreamToClient(client: WebSocketSession, upstream: WebSocketClientConnection) async {
        do {
            while let message = try await upstream.receive() {
                do {
                    switch message {
                    case .text(let text): try await client.send(text: text)
                    case .binary(let bytes): try await client.send(binary: bytes)
                    }
                } catch {
                    // The client is gone or closing: the other direction tells the upstream.
                    return
                }
            }
            await client.close(code: upstream.closeCode ?? .normalClosure, reason: upstream.closeReason ?? "")
        } catch {
            let failure = error as? WebSocketClientError
            let code: WebSocketCloseCode
            let reason: String
            switch (failure?.kind, failure?.closeCode) {
            case (.protocolError?, .messageTooBig?):
                (code, reason) = (.messageTooBig, "upstream message over the relay's limit")
            case (.cancelled?, _):
                (code, reason) = (.goingAway, "ingress shutting down")
            default:
                (code, reason) = (.internalError, "upstream connection lost")
            }
            await client.close(code: code, reason: reason)
        }
    }

    static func clientToUpstream(client: WebSocketSession, upstream: WebSocketClientConnection) async {
        for await message in client.messages {
            do {
                try await upstream.send(message)
            } catch {
                break  // the upstream is gone: the other direction closes the client
            }
        }
        // The client closed (its code is forwarded), vanished, or the ingress is draining.
        await upstream.close(code: client.closeCode ?? .goingAway, reason: client.closeReason ?? "")
    }
}
