import Testing

@Test func EmbeddingsTestsPlaceholderBuilds() { #expect(Bool(true)) }
