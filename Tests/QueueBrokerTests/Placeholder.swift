import Testing

@Test func QueueBrokerTestsPlaceholderBuilds() { #expect(Bool(true)) }
