import BulkheadHTTP

/// What connections need from the client configuration, in loop-friendly units.
struct ConnectionSettings: Sendable {
    var connectTimeoutNanos: UInt64
    var idleTimeoutNanos: UInt64
    var maxConnectionsPerHost: Int
    var parserLimits: HTTPParserLimits
    var responseBufferBytes: Int
    var maxCollectBytes: Int

    init(_ c: HTTPClient.Configuration) {
        connectTimeoutNanos = max(1, c.connectTimeout.clientNanoseconds)
        idleTimeoutNanos = max(1, c.idleTimeout.clientNanoseconds)
        maxConnectionsPerHost = max(1, c.maxConnectionsPerHost)
        parserLimits = HTTPParserLimits(
            maxHeaderBytes: max(256, c.maxResponseHeadBytes),
            maxHeaderCount: max(1, c.maxResponseHeaderCount),
            defaultMaxBodyBytes: Int.max)
        responseBufferBytes = max(1, c.responseBufferBytes)
        maxCollectBytes = max(0, c.maxCollectBytes)
    }
}
