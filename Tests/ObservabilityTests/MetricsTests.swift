import Testing
@testable import BulkheadObservability

@Suite("Metrics")
struct MetricsTests {
    func registry() -> MetricsRegistry { MetricsRegistry(includeProcessMetrics: false) }

    @Test func counterRendering() throws {
        let registry = registry()
        let requests = try registry.counter(
            "http_requests_total", help: "Requests handled.", labelNames: ["method", "route", "status"])
        let getOK = requests.labels("GET", "/v1/x", "200")
        getOK.inc()
        getOK.inc(by: 4)
        requests.labels("POST", "/v1/x", "201").inc(by: 0.5)
        requests.labels("GET", "/v1/x", "200").inc()
        let plain = try registry.counter("bytes_total", help: "Bytes.")
        plain.inc(by: 1024)
        #expect(registry.render() == """
            # HELP bytes_total Bytes.
            # TYPE bytes_total counter
            bytes_total 1024
            # HELP http_requests_total Requests handled.
            # TYPE http_requests_total counter
            http_requests_total{method="GET",route="/v1/x",status="200"} 6
            http_requests_total{method="POST",route="/v1/x",status="201"} 0.5

            """)
    }

    @Test func counterIgnoresNegativeAmounts() throws {
        let counter = try registry().counter("c_total", help: "c")
        counter.inc(by: -3)
        counter.inc(by: -0.5)
        counter.inc(by: .nan)
        counter.inc(by: 2.0)
        counter.inc(by: 0.25)
        #expect(counter.value == 2.25)
    }

    @Test func gaugeRendering() throws {
        let registry = registry()
        let inFlight = try registry.gauge("in_flight", help: "Requests in flight.")
        inFlight.inc()
        inFlight.inc()
        inFlight.dec()
        let temperature = try registry.gauge("temperature_celsius", help: "Temperature.", labelNames: ["room"])
        temperature.labels("lab").set(-3.5)
        temperature.labels("hall").set(21)
        temperature.labels("hall").inc(by: 0.25)
        temperature.labels("attic").set(.infinity)
        temperature.labels("cellar").set(.nan)
        #expect(registry.render() == """
            # HELP in_flight Requests in flight.
            # TYPE in_flight gauge
            in_flight 1
            # HELP temperature_celsius Temperature.
            # TYPE temperature_celsius gauge
            temperature_celsius{room="attic"} +Inf
            temperature_celsius{room="cellar"} NaN
            temperature_celsius{room="hall"} 21.25
            temperature_celsius{room="lab"} -3.5

            """)
    }

    @Test func histogramRenderingIsCumulative() throws {
        let registry = registry()
        let sizes = try registry.histogram(
            "payload_bytes", help: "Payload sizes.", labelNames: ["dir"], buckets: [100, 1000, 10000, .infinity])
        let inbound = sizes.labels("in")
        for value in [50.0, 100, 150, 999, 5000, 20000] { inbound.observe(value) }
        #expect(inbound.count == 6)
        #expect(inbound.sum == 26299)
        #expect(registry.render() == """
            # HELP payload_bytes Payload sizes.
            # TYPE payload_bytes histogram
            payload_bytes_bucket{dir="in",le="100"} 2
            payload_bytes_bucket{dir="in",le="1000"} 4
            payload_bytes_bucket{dir="in",le="10000"} 5
            payload_bytes_bucket{dir="in",le="+Inf"} 6
            payload_bytes_sum{dir="in"} 26299
            payload_bytes_count{dir="in"} 6

            """)
    }

    @Test func histogramDefaultBucketsInSeconds() throws {
        let registry = registry()
        let latency = try registry.histogram("request_duration_seconds", help: "Latency.")
        latency.observe(0.000244140625)      // 2^-12, exact in binary
        latency.observe(.microseconds(3906.25)) // 2^-8 s
        latency.observe(0.75)
        latency.observe(42)
        #expect(registry.render() == """
            # HELP request_duration_seconds Latency.
            # TYPE request_duration_seconds histogram
            request_duration_seconds_bucket{le="0.0005"} 1
            request_duration_seconds_bucket{le="0.001"} 1
            request_duration_seconds_bucket{le="0.0025"} 1
            request_duration_seconds_bucket{le="0.005"} 2
            request_duration_seconds_bucket{le="0.01"} 2
            request_duration_seconds_bucket{le="0.025"} 2
            request_duration_seconds_bucket{le="0.05"} 2
            request_duration_seconds_bucket{le="0.1"} 2
            request_duration_seconds_bucket{le="0.25"} 2
            request_duration_seconds_bucket{le="0.5"} 2
            request_duration_seconds_bucket{le="1"} 3
            request_duration_seconds_bucket{le="2.5"} 3
            request_duration_seconds_bucket{le="5"} 3
            request_duration_seconds_bucket{le="10"} 3
            request_duration_seconds_bucket{le="+Inf"} 4
            request_duration_seconds_sum 42.754150390625
            request_duration_seconds_count 4

            """)
    }

    @Test func emptyLabelledFamilyRendersHeaderOnly() throws {
        let registry = registry()
        _ = try registry.histogram("h", help: "H.", labelNames: ["x"], buckets: [1])
        #expect(registry.render() == "# HELP h H.\n# TYPE h histogram\n")
    }

    @Test func labelValueAndHelpEscaping() throws {
        let registry = registry()
        let family = try registry.counter("escapes_total", help: "Back\\slash and\nnewline \"kept\".", labelNames: ["v"])
        family.labels("a\\b\"c\nd é").inc()
        #expect(registry.render() == """
            # HELP escapes_total Back\\\\slash and\\nnewline "kept".
            # TYPE escapes_total counter
            escapes_total{v="a\\\\b\\"c\\nd é"} 1

            """)
    }

    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-42.0, "-42"), (1e15, "1000000000000000"),
        (1e18, "1000000000000000000"), (1e20, "1e+20"), (0.5, "0.5"), (0.0005, "0.0005"), (1e-05, "1e-05"),
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (Double.nan, "NaN"), (2.5, "2.5"),
    ])
    func valueFormatting(value: Double, expected: String) {
        #expect(PrometheusText.formatValue(value) == expected)
    }

    @Test func familiesAreSortedByName() throws {
        let registry = registry()
        _ = try registry.gauge("zeta", help: "z")
        _ = try registry.counter("alpha_total", help: "a")
        try registry.callbackGauge("mid", help: "m") { 7 }
        let types = registry.render().split(separator: "\n").filter { $0.hasPrefix("# TYPE") }
        #expect(types == ["# TYPE alpha_total counter", "# TYPE mid gauge", "# TYPE zeta gauge"])
        #expect(registry.familyNames == ["alpha_total", "mid", "zeta"])
    }

    @Test func callbackGaugesAreEvaluatedAtRender() throws {
        let registry = registry()
        let depth = Gauge()
        try registry.callbackGauge("queue_depth", help: "Queued jobs.") { depth.value }
        try registry.callbackGauge("pool_size", help: "Pool sizes.", labelNames: ["pool"]) {
            [.init(labelValues: ["b"], value: 2), .init(labelValues: ["a"], value: 1), .init(labelValues: [], value: 9)]
        }
        depth.set(3)
        #expect(registry.render().contains("\nqueue_depth 3\n"))
        depth.set(5)
        #expect(registry.render() == """
            # HELP pool_size Pool sizes.
            # TYPE pool_size gauge
            pool_size{pool="a"} 1
            pool_size{pool="b"} 2
            # HELP queue_depth Queued jobs.
            # TYPE queue_depth gauge
            queue_depth 5

            """)
    }

    @Test func handlesAreCachedAndShared() throws {
        let registry = registry()
        let family = try registry.counter("x_total", help: "x", labelNames: ["a", "b"])
        let handle = family.labels("1", "2")
        #expect(handle === family.labels("1", "2"))
        #expect(handle === family.labels(["1", "2"]))
        #expect(handle !== family.labels("2", "1"))
        let four = try registry.gauge("four", help: "4", labelNames: ["a", "b", "c", "d"])
        #expect(four.labels("1", "2", "3", "4") === four.labels(["1", "2", "3", "4"]))
        let single = try registry.gauge("single", help: "1")
        #expect(single.labels() === single.labels([]))
    }

    @Test func sameRegistrationReturnsExistingFamily() throws {
        let registry = registry()
        let first = try registry.counter("shared_total", help: "s", labelNames: ["a"])
        let second = try registry.counter("shared_total", help: "s", labelNames: ["a"])
        #expect(first === second)
        let h1 = try registry.histogram("lat", help: "l", buckets: [1, 2])
        let h2 = try registry.histogram("lat", help: "l", buckets: [1, 2])
        #expect(h1 === h2)
    }

    @Test func removeAndUnregister() throws {
        let registry = registry()
        let family = try registry.counter("gone_total", help: "g", labelNames: ["k"])
        family.labels("a").inc()
        family.labels("b").inc()
        family.remove("a")
        #expect(!registry.render().contains("k=\"a\""))
        registry.unregister("gone_total")
        #expect(registry.render() == "")
        _ = try registry.gauge("gone_total", help: "now a gauge")
    }

    @Test func invalidNamesAreRejectedAtRegistration() {
        let registry = registry()
        #expect(throws: MetricsError.invalidMetricName("1abc")) { try registry.counter("1abc", help: "") }
        #expect(throws: MetricsError.invalidMetricName("a-b")) { try registry.gauge("a-b", help: "") }
        #expect(throws: MetricsError.invalidMetricName("")) { try registry.histogram("", help: "") }
        #expect(throws: MetricsError.invalidMetricName("é")) { try registry.callbackGauge("é", help: "") { 0 } }
        #expect(throws: MetricsError.self) { try registry.counter("ok", help: "", labelNames: ["__name"]) }
        #expect(throws: MetricsError.self) { try registry.counter("ok", help: "", labelNames: ["a:b"]) }
        #expect(throws: MetricsError.self) { try registry.counter("ok", help: "", labelNames: ["9a"]) }
        #expect(throws: MetricsError.self) { try registry.counter("ok", help: "", labelNames: [""]) }
        #expect(throws: MetricsError.duplicateLabelName(metric: "ok", label: "a")) {
            try registry.counter("ok", help: "", labelNames: ["a", "a"])
        }
        #expect(throws: MetricsError.self) { try registry.histogram("h", help: "", labelNames: ["le"]) }
        #expect(throws: MetricsError.self) { try registry.histogram("h", help: "", buckets: [1, 1]) }
        #expect(throws: MetricsError.self) { try registry.histogram("h", help: "", buckets: [2, 1]) }
        #expect(throws: MetricsError.self) { try registry.histogram("h", help: "", buckets: [.nan]) }
        #expect(throws: MetricsError.self) { try registry.histogram("h", help: "", buckets: [-.infinity, 1]) }
        // Valid names with colons and underscores are fine.
        #expect(throws: Never.self) { try registry.counter("job:requests:rate5m", help: "", labelNames: ["_x", "y9"]) }
    }

    @Test func conflictingRegistrationsAreRejected() throws {
        let registry = registry()
        _ = try registry.counter("dup", help: "", labelNames: ["a"])
        #expect(throws: MetricsError.conflictingRegistration(metric: "dup", existing: "dup")) {
            try registry.gauge("dup", help: "")
        }
        #expect(throws: MetricsError.self) { try registry.counter("dup", help: "", labelNames: ["b"]) }
        _ = try registry.histogram("latency", help: "")
        #expect(throws: MetricsError.conflictingRegistration(metric: "latency_count", existing: "latency")) {
            try registry.counter("latency_count", help: "")
        }
        _ = try registry.gauge("size_sum", help: "")
        #expect(throws: MetricsError.conflictingRegistration(metric: "size", existing: "size_sum")) {
            try registry.histogram("size", help: "")
        }
        #expect(throws: MetricsError.self) { try registry.histogram("latency", help: "", buckets: [1]) }
        try registry.callbackGauge("cb", help: "") { 1 }
        #expect(throws: MetricsError.self) { try registry.callbackGauge("cb", help: "") { 2 } }
        let processRegistry = MetricsRegistry()
        #expect(throws: MetricsError.self) { try processRegistry.gauge("process_open_fds", help: "") }
    }

    @Test func errorMessagesNameTheProblem() {
        #expect(MetricsError.invalidMetricName("a-b").description.contains("[a-zA-Z_:][a-zA-Z0-9_:]*"))
        #expect(MetricsError.duplicateLabelName(metric: "m", label: "l").description.contains("m"))
    }

    @Test func countersAreExactUnderConcurrency() async throws {
        let registry = registry()
        let family = try registry.counter("hits_total", help: "Hits.", labelNames: ["route"])
        let kept = family.labels("/kept")
        let gauge = try registry.gauge("balance", help: "b")
        let histogram = try registry.histogram("obs", help: "o", buckets: [0.5])
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for _ in 0..<10_000 {
                        kept.inc()                        // cached handle
                        family.labels("/looked-up").inc() // lookup path
                        gauge.inc()
                        gauge.dec()
                        histogram.observe(task % 2 == 0 ? 0.25 : 0.75)
                    }
                }
            }
        }
        #expect(kept.value == 80_000)
        #expect(family.labels("/looked-up").value == 80_000)
        #expect(gauge.value == 0)
        let text = registry.render()
        #expect(text.contains("hits_total{route=\"/kept\"} 80000\n"))
        #expect(text.contains("obs_bucket{le=\"0.5\"} 40000\n"))
        #expect(text.contains("obs_bucket{le=\"+Inf\"} 80000\n"))
        #expect(text.contains("obs_count 80000\n"))
        #expect(text.contains("obs_sum 40000\n"))
    }

    @Test func processMetricsAreRenderedFromProc() throws {
        let registry = MetricsRegistry()
        _ = try registry.counter("app_total", help: "a")
        let text = registry.render()
        func value(_ name: String) -> Double? {
            for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
                return Double(line.dropFirst(name.count + 1))
            }
            return nil
        }
        #expect((value("process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((value("process_virtual_memory_bytes") ?? 0) > 1_000_000)
        #expect((value("process_open_fds") ?? 0) >= 3)
        #expect((value("process_max_fds") ?? 0) >= 3)
        #expect(value("process_cpu_seconds_total") != nil)
        #expect(text.contains("# TYPE process_cpu_seconds_total counter\n"))
        let start = try #require(value("process_start_time_seconds"))
        let now = WallClockTime.now().secondsSinceEpoch
        #expect(start <= now + 1 && start > now - 86_400 * 365)
        // Families stay sorted with process metrics mixed in.
        let names = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(names == names.sorted())
        #expect(names.first == "app_total")
    }

    @Test func contentType() {
        #expect(MetricsRegistry.contentType == "text/plain; version=0.0.4; charset=utf-8")
    }
}
