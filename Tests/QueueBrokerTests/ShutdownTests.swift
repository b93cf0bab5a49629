import BulkheadService
import BulkheadTesting
import Foundation
import QueueBroker
import Synchronization
import Testing

/// Shutdown is not held up by consumers' long polls: they are answered (empty) as the drain
/// begins, instead of the server waiting out its whole grace period for them.
@Suite("Queue broker shutdown")
struct ShutdownTests {
    @Test func longPollsAreAnsweredWhenShutdownBegins() async throws {
        let host = try await ServiceHost.start(QueueBrokerService.self, environment: BrokerHarness.environment())
        let port = host.port
        let auth = "Authorization: Bearer \(BrokerClient.token)\r\nContent-Type: application/json\r\n"
        let create = try RawConnection(port: port)
        try create.send("PUT /internal/v1/queues/idle HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 2\r\n\r\n{}")
        #expect(try create.readResponse().status == 201)

        // A receive and a stream read, both parked for 20 s, on their own OS threads.
        let answers = Mutex<[String]>([])
        let receive = #"{"max_messages":1,"wait_seconds":20}"#
        for request in [
            "POST /internal/v1/queues/idle/receive HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: \(receive.utf8.count)\r\n\r\n\(receive)",
            "GET /internal/v1/streams/quiet/events?wait_seconds=20 HTTP/1.1\r\nHost: x\r\n\(auth)\r\n",
        ] {
            Thread.detachNewThread {
                do {
                    let c = try RawConnection(port: port)
                    try c.send(request)
                    let r = try c.readResponse(timeout: .seconds(25))
                    answers.withLock { $0.append("\(r.status) \(r.text)") }
                } catch {
                    answers.withLock { $0.append("error \(error)") }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(500))  // let both park (the drain would wait for them)

        // The default grace is 10 s: a drain waiting on the polls would take that long.
        let started = ContinuousClock.now
        await host.shutdown()
        let took = ContinuousClock.now - started
        #expect(took < .seconds(5), "shutdown took \(took)")

        let answerDeadline = ContinuousClock.now + .seconds(5)
        while answers.withLock({ $0.count }) < 2 && ContinuousClock.now < answerDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let got = answers.withLock { $0 }
        #expect(got.count == 2)
        #expect(got.contains { $0.hasPrefix("200 ") && $0.contains("\"messages\":[]") }, "\(got)")
        #expect(got.contains { $0.hasPrefix("200 ") && $0.contains("\"events\":[]") }, "\(got)")
    }
}
