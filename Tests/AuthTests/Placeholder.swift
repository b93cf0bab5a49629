import Testing

@Test func AuthTestsPlaceholderBuilds() { #expect(Bool(true)) }
