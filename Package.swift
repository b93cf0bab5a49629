// swift-tools-version:6.0
import PackageDescription

/// Bulkhead: seven independent services sharing one runtime (`Shared/`).
/// No outside packages: the HTTP runtime, storage and crypto are ours, on system C libraries.
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let services: [(exe: String, lib: String, dir: String)] = [
    ("api-core", "APICore", "api-core"),
    ("auth", "Auth", "auth"),
    ("inference-gateway", "InferenceGateway", "inference-gateway"),
    ("queue-broker", "QueueBroker", "queue-broker"),
    ("cache", "Cache", "cache"),
    ("metrics", "Metrics", "metrics"),
    ("autoscaler", "Autoscaler", "autoscaler"),
]

var targets: [Target] = [
    // C libraries from Debian packages.
    .systemLibrary(
        name: "CSQLite", path: "Shared/CSQLite", pkgConfig: "sqlite3",
        providers: [.apt(["libsqlite3-dev"])]),
    .systemLibrary(
        name: "COpenSSL", path: "Shared/COpenSSL", pkgConfig: "openssl",
        providers: [.apt(["libssl-dev"])]),
    .systemLibrary(
        name: "COpenBLAS", path: "Shared/COpenBLAS", pkgConfig: "openblas",
        providers: [.apt(["libopenblas-dev"])]),
    // Linux headers Glibc does not export (epoll, eventfd, timerfd).
    .target(name: "CBulkheadShims", path: "Shared/CShims"),

    // Protocol types every service shares.
    .target(name: "Shared", path: "Shared/Shared", swiftSettings: swift6),
    // Logs, metrics, tracing, configuration: no I/O beyond stderr.
    .target(name: "BulkheadObservability", dependencies: ["Shared"], path: "Shared/Observability", swiftSettings: swift6),
    // OpenSSL: hashes, random, Ed25519, scrypt, TLS.
    .target(name: "BulkheadCrypto", dependencies: ["COpenSSL"], path: "Shared/Crypto", swiftSettings: swift6),
    // SQLite with migrations.
    .target(name: "BulkheadStorage", dependencies: ["CSQLite"], path: "Shared/Storage", swiftSettings: swift6),
    // The HTTP/1.1 server on epoll, router, middleware, SSE, WebSocket.
    .target(
        name: "BulkheadHTTP",
        dependencies: ["CBulkheadShims", "BulkheadCrypto", "Shared", "BulkheadObservability"],
        path: "Shared/HTTP", swiftSettings: swift6),
    // The HTTP client: pooled keep-alive connections, streaming, TLS.
    .target(
        name: "BulkheadHTTPClient",
        dependencies: ["CBulkheadShims", "BulkheadHTTP", "BulkheadCrypto", "BulkheadObservability"],
        path: "Shared/HTTPClient", swiftSettings: swift6),
    // Service scaffolding: configuration, health, metrics routes, lifecycle.
    .target(
        name: "BulkheadService",
        dependencies: ["Shared", "BulkheadHTTP", "BulkheadHTTPClient", "BulkheadObservability"],
        path: "Shared/Service", exclude: ["README.md"], swiftSettings: swift6),
    // Access tokens (EdDSA JWT), the JWKS verifier every service uses, API-key introspection cache.
    .target(
        name: "BulkheadAuth",
        dependencies: ["Shared", "BulkheadCrypto", "BulkheadHTTP", "BulkheadHTTPClient", "BulkheadObservability"],
        path: "Shared/Auth", swiftSettings: swift6),
    // Local models: all-MiniLM-L6-v2 sentence embeddings in Swift on OpenBLAS (fp32 and int8).
    .target(name: "BulkheadEmbeddings", dependencies: ["COpenBLAS", "CBulkheadKernels"], path: "Shared/Embeddings", swiftSettings: swift6),
    // Hand-written SIMD kernels (int8 GEMM with AVX-512 VNNI / AVX2, chosen at run time).
    .target(name: "CBulkheadKernels", path: "Shared/CKernels", cSettings: [.unsafeFlags(["-O3"])]),
    // Test harness: start services in-process on port 0, talk to them over real sockets.
    .target(
        name: "BulkheadTesting",
        dependencies: ["BulkheadHTTP", "BulkheadHTTPClient", "BulkheadService", "CBulkheadShims", "Shared"],
        path: "Shared/Testing", swiftSettings: swift6),

    // The stack runner: every service as its own process, plus the ingress on :8000.
    .target(
        name: "StackRunner",
        dependencies: ["BulkheadHTTP", "BulkheadHTTPClient", "BulkheadService", "BulkheadObservability"],
        path: "Tools/StackRunner", swiftSettings: swift6),
    .executableTarget(name: "bulkhead", dependencies: ["StackRunner"], path: "Tools/bulkhead", swiftSettings: swift6),

    // Benchmark target server (plaintext and JSON routes).
    .executableTarget(
        name: "bench-server", dependencies: ["BulkheadHTTP", "BulkheadService"],
        path: "bench/server", swiftSettings: swift6),
]

var testTargets: [Target] = [
    .testTarget(name: "SharedTests", dependencies: ["Shared"], path: "Tests/SharedTests", swiftSettings: swift6),
    .testTarget(name: "ObservabilityTests", dependencies: ["BulkheadObservability"], path: "Tests/ObservabilityTests", swiftSettings: swift6),
    .testTarget(name: "CryptoTests", dependencies: ["BulkheadCrypto"], path: "Tests/CryptoTests", swiftSettings: swift6),
    .testTarget(name: "StorageTests", dependencies: ["BulkheadStorage"], path: "Tests/StorageTests", swiftSettings: swift6),
    .testTarget(
        name: "HTTPTests", dependencies: ["BulkheadHTTP", "BulkheadHTTPClient", "BulkheadTesting", "BulkheadCrypto"],
        path: "Tests/HTTPTests", swiftSettings: swift6),
    .testTarget(
        name: "AuthTests", dependencies: ["Auth", "BulkheadAuth", "BulkheadTesting", "BulkheadService", "BulkheadHTTPClient"],
        path: "Tests/AuthTests", swiftSettings: swift6),
    .testTarget(
        name: "QueueBrokerTests", dependencies: ["QueueBroker", "BulkheadTesting", "BulkheadService", "BulkheadHTTPClient"],
        path: "Tests/QueueBrokerTests", swiftSettings: swift6),
    .testTarget(
        name: "EmbeddingsTests", dependencies: ["BulkheadEmbeddings", "InferenceGateway", "BulkheadTesting", "BulkheadService"],
        path: "Tests/EmbeddingsTests", exclude: ["Fixtures"], swiftSettings: swift6),
    .testTarget(
        name: "CacheTests",
        dependencies: ["Cache", "BulkheadEmbeddings", "BulkheadTesting", "BulkheadService", "BulkheadHTTPClient"],
        path: "Tests/CacheTests", swiftSettings: swift6),
    .testTarget(
        name: "GatewayTests",
        dependencies: [
            "InferenceGateway", "Cache", "QueueBroker", "Auth", "BulkheadAuth", "BulkheadTesting", "BulkheadService", "BulkheadHTTPClient",
        ],
        path: "Tests/GatewayTests", exclude: ["sdk"], swiftSettings: swift6),
    .testTarget(
        name: "APICoreTests",
        dependencies: [
            "APICore", "Auth", "QueueBroker", "InferenceGateway", "Cache", "BulkheadAuth", "BulkheadTesting", "BulkheadService",
            "BulkheadHTTPClient",
        ],
        path: "Tests/APICoreTests", swiftSettings: swift6),
    .testTarget(
        name: "ServiceTests",
        dependencies: ["BulkheadService", "BulkheadTesting", "StackRunner"] + services.map { .byName(name: $0.lib) },
        path: "Tests/ServiceTests", swiftSettings: swift6),
]

for s in services {
    targets.append(
        .target(
            name: s.lib,
            dependencies: ["Shared", "BulkheadHTTP", "BulkheadHTTPClient", "BulkheadService", "BulkheadStorage", "BulkheadCrypto", "BulkheadAuth"]
                + (s.lib == "InferenceGateway" ? ["BulkheadEmbeddings"] : [])
                + (s.lib == "Cache" ? ["CBulkheadKernels"] : []),
            path: "Services/\(s.dir)/Sources/\(s.lib)", swiftSettings: swift6))
    targets.append(
        .executableTarget(
            name: s.exe, dependencies: [.byName(name: s.lib)],
            path: "Services/\(s.dir)/Sources/main", swiftSettings: swift6))
}

let package = Package(
    name: "Bulkhead",
    platforms: [.macOS(.v15)],
    products: services.map { .executable(name: $0.exe, targets: [$0.exe]) } + [
        .executable(name: "bulkhead", targets: ["bulkhead"]),
        .executable(name: "bench-server", targets: ["bench-server"]),
    ],
    targets: targets + testTargets
)
