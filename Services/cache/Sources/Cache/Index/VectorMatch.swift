/// One search result: the caller's id and its cosine similarity to the query (-1…1).
public struct VectorMatch: Sendable, Equatable {
    /// The id given to `VectorIndex.insert(id:vector:)`.
    public var id: UInt64
    /// Cosine similarity between the query and the stored vector.
    public var similarity: Float

    public init(id: UInt64, similarity: Float) {
        self.id = id
        self.similarity = similarity
    }
}
