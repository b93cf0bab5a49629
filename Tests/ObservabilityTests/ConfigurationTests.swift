import Testing
import BulkheadObservability

@Suite("Configuration")
struct ConfigurationTests {
    @Test func stringValues() {
        let env = Environment(["NAME": "  spaced  ", "EMPTY": ""])
        #expect(env.string("NAME", default: "x") == "  spaced  ")
        #expect(env.string("MISSING", default: "fallback") == "fallback")
        #expect(env.string("NAME") == "spaced")
        #expect(env.string("EMPTY") == nil)
        #expect(env.string("EMPTY", default: "d") == "")
        #expect(env.problems.isEmpty)
        #expect(env.string("NEEDED", required: true) == nil)
        #expect(env.problems == ["NEEDED: required but not set"])
    }

    @Test func intValues() {
        let env = Environment(["PORT": " 9090 ", "BAD": "12a", "BIG": "70000", "NEG": "-5", "EMPTY": " "])
        #expect(env.int("PORT", default: 8080, range: 1...65535) == 9090)
        #expect(env.int("MISSING", default: 8080) == 8080)
        #expect(env.int("EMPTY", default: 1) == 1)
        #expect(env.int("NEG", default: 0) == -5)
        #expect(env.int("BAD", default: 1) == 1)
        #expect(env.int("BIG", default: 8080, range: 1...65535) == 8080)
        #expect(env.problems == [
            #"BAD: expected an integer, got "12a""#,
            "BIG: expected an integer in 1...65535, got 70000",
        ])
    }

    @Test func doubleValues() {
        let env = Environment(["RATIO": "0.25", "BAD": "nan", "HIGH": "2"])
        #expect(env.double("RATIO", default: 1) == 0.25)
        #expect(env.double("BAD", default: 1) == 1)
        #expect(env.double("HIGH", default: 0.5, range: 0...1) == 0.5)
        #expect(env.problems.count == 2)
    }

    @Test func boolValues() {
        let env = Environment([
            "A": "true", "B": "FALSE", "C": "1", "D": "0", "E": "Yes", "F": "no", "G": "on", "H": "OFF", "I": "maybe",
        ])
        #expect(env.bool("A", default: false))
        #expect(!env.bool("B", default: true))
        #expect(env.bool("C", default: false))
        #expect(!env.bool("D", default: true))
        #expect(env.bool("E", default: false))
        #expect(!env.bool("F", default: true))
        #expect(env.bool("G", default: false))
        #expect(!env.bool("H", default: true))
        #expect(env.bool("I", default: true))
        #expect(env.bool("MISSING", default: true))
        #expect(env.problems == [#"I: expected a boolean (true/false, 1/0, yes/no, on/off), got "maybe""#])
    }

    @Test(arguments: [
        ("30s", Duration.seconds(30)), ("500ms", .milliseconds(500)), ("2m", .seconds(120)), ("1h", .seconds(3600)),
        ("1m30s", .seconds(90)), ("1.5s", .milliseconds(1500)), ("45", .seconds(45)), ("0.25", .milliseconds(250)),
        ("250us", .microseconds(250)), ("10ns", .nanoseconds(10)), ("0", .zero), (" 5s ", .seconds(5)),
    ])
    func durationValues(text: String, expected: Duration) {
        let env = Environment(["T": text])
        #expect(env.duration("T", default: .seconds(1)) == expected)
        #expect(env.problems.isEmpty)
    }

    @Test(arguments: ["-5s", "5 s", "5x", "s", "1.2.3s", "ms5", "5sm", "1e3", "9999999999h"])
    func badDurations(text: String) {
        let env = Environment(["T": text])
        #expect(env.duration("T", default: .seconds(7)) == .seconds(7))
        #expect(env.problems.count == 1)
    }

    @Test func urlValues() throws {
        let env = Environment([
            "UPSTREAM": "http://auth:8001/v1", "BAD": "not a url", "NOHOST": "http://", "FTP": "ftp://files/x",
            "DB": "postgres://user:hunter2@db:5432/app",
        ])
        #expect(env.url("UPSTREAM")?.host == "auth")
        #expect(env.url("UPSTREAM")?.port == 8001)
        #expect(env.url("MISSING") == nil)
        #expect(env.url("MISSING2", default: "https://example.com")?.host == "example.com")
        #expect(env.url("BAD", default: "http://fallback")?.host == "fallback")
        #expect(env.url("NOHOST") == nil)
        #expect(env.url("FTP", schemes: ["http", "https"]) == nil)
        #expect(env.url("DB")?.host == "db")
        #expect(env.url("REQUIRED_URL", required: true) == nil)
        #expect(env.problems.count == 4)
        #expect(env.problems.contains(#"FTP: expected an absolute URL (http, https), got "ftp://files/x""#))
        let summary = env.summary.description
        #expect(summary.contains("DB=postgres://user:***@db:5432/app (env)"))
        #expect(!summary.contains("hunter2"))
    }

    @Test func listValues() {
        let env = Environment(["HOSTS": " a, b ,,c ", "EMPTY": ""])
        #expect(env.list("HOSTS") == ["a", "b", "c"])
        #expect(env.list("EMPTY", default: ["x"]) == ["x"])
        #expect(env.list("MISSING") == [])
        #expect(env.summary.lines.contains("HOSTS=a,b,c (env)"))
    }

    @Test func secretsAreHidden() {
        let env = Environment(["API_TOKEN": "s3cr3t-value", "DB_PASSWORD": "hunter2"])
        let token = env.secret("API_TOKEN")
        #expect(token?.value == "s3cr3t-value")
        #expect(token?.description == "***")
        #expect("\(String(describing: token))".contains("s3cr3t") == false)
        var dumped = ""
        dump(token, to: &dumped)
        #expect(!dumped.contains("s3cr3t"))
        #expect(env.secret("MISSING") == nil)
        #expect(env.secret("REQUIRED_KEY", required: true) == nil)
        // Read again as a plain string: still hidden in the summary.
        _ = env.string("DB_PASSWORD", default: "")
        _ = env.secret("DB_PASSWORD")
        _ = env.string("DB_PASSWORD", default: "")
        let summary = env.summary.description
        #expect(!summary.contains("s3cr3t-value"))
        #expect(!summary.contains("hunter2"))
        #expect(env.summary.lines == [
            "API_TOKEN=*** (env)",
            "DB_PASSWORD=*** (env)",
            "MISSING=<unset> (default)",
            "REQUIRED_KEY=<unset> (default)",
        ])
        #expect(env.problems == ["REQUIRED_KEY: required but not set"])
    }

    @Test func plainStringsWithSecretLookingNamesAreHiddenToo() {
        let env = Environment([
            "SESSION_SECRET": "abc123", "ALLOWED_ORIGINS": "a.example,b.example", "API_KEYS_FILE_TOKEN": "x1",
            "REGION": "eu",
        ])
        #expect(env.string("SESSION_SECRET", default: "") == "abc123")
        #expect(env.list("ALLOWED_ORIGINS") == ["a.example", "b.example"])
        #expect(env.list("API_KEYS_FILE_TOKEN") == ["x1"])
        #expect(env.string("REGION") == "eu")
        #expect(env.string("DB_PASSWORD") == nil)
        #expect(env.summary.lines == [
            "ALLOWED_ORIGINS=a.example,b.example (env)",
            "API_KEYS_FILE_TOKEN=*** (env)",
            "DB_PASSWORD=<unset> (default)",
            "REGION=eu (env)",
            "SESSION_SECRET=*** (env)",
        ])
    }

    @Test func logLevelAndCustomValues() {
        let env = Environment(["LOG_LEVEL": "Warn", "MODE": "fast", "OTHER_LEVEL": "loud"])
        #expect(env.logLevel() == .warning)
        #expect(env.logLevel("OTHER_LEVEL", default: .error) == .error)
        let mode = env.value("MODE", default: 0, expected: "fast or slow") { $0 == "fast" ? 1 : $0 == "slow" ? 2 : nil }
        #expect(mode == 1)
        #expect(env.problems == [#"OTHER_LEVEL: expected one of debug, info, warning, error, got "loud""#])
        #expect(env.summary.lines.contains("LOG_LEVEL=warning (env)"))
    }

    @Test func summaryShowsEverySettingWithItsSource() {
        let env = Environment([
            "PORT": "9000", "DEBUG": "yes", "TIMEOUT": "1500ms", "SIGNING_KEY": "key-material", "PEERS": "a,b",
        ])
        _ = env.int("PORT", default: 8080)
        _ = env.int("WORKERS", default: 4)
        _ = env.bool("DEBUG", default: false)
        _ = env.duration("TIMEOUT", default: .seconds(30))
        _ = env.duration("IDLE", default: .seconds(120))
        _ = env.secret("SIGNING_KEY")
        _ = env.list("PEERS")
        _ = env.string("REGION", default: "eu-1")
        _ = env.url("UPSTREAM", default: "http://localhost:8001")
        #expect(env.summary.description == """
            DEBUG=true (env)
            IDLE=2m (default)
            PEERS=a,b (env)
            PORT=9000 (env)
            REGION=eu-1 (default)
            SIGNING_KEY=*** (env)
            TIMEOUT=1500ms (env)
            UPSTREAM=http://localhost:8001 (default)
            WORKERS=4 (default)
            """)
        #expect(throws: Never.self) { try env.validate() }
    }

    @Test func badValuesAreCollectedIntoOneError() throws {
        let env = Environment([
            "PORT": "eighty", "WORKERS": "0", "DEBUG": "maybe", "TIMEOUT": "10 parsecs", "UPSTREAM": "::nope",
            "SIGNING_KEY": "super-secret-key",
        ])
        let port = env.int("PORT", default: 8080, range: 1...65535)
        let workers = env.int("WORKERS", default: 4, range: 1...64)
        let debug = env.bool("DEBUG", default: false)
        let timeout = env.duration("TIMEOUT", default: .seconds(30))
        let upstream = env.url("UPSTREAM", default: "http://localhost:8001")
        let key = env.secret("SIGNING_KEY", required: true)
        let missing = env.secret("ADMIN_PASSWORD", required: true)
        // Reading carried on with defaults.
        #expect(port == 8080 && workers == 4 && !debug && timeout == .seconds(30))
        #expect(upstream?.host == "localhost")
        #expect(key?.value == "super-secret-key" && missing == nil)

        let error = try #require(throws: ConfigurationError.self) { try env.validate() }
        #expect(error.problems.count == 6)
        #expect(error.problems == env.problems)
        let message = error.description
        #expect(message.hasPrefix("invalid configuration (6 problems): PORT: expected an integer, got \"eighty\"; "))
        for key in ["PORT", "WORKERS", "DEBUG", "TIMEOUT", "UPSTREAM", "ADMIN_PASSWORD"] {
            #expect(message.contains(key + ": "), "missing \(key)")
        }
        #expect(!message.contains("super-secret-key"))
        #expect(!env.summary.description.contains("super-secret-key"))
        #expect(env.summary.lines.contains("PORT=8080 (default)"))
    }

    @Test func callerProblemsJoinTheList() {
        let env = Environment([:])
        env.recordProblem("TLS_CERT and TLS_KEY must be set together")
        #expect(throws: ConfigurationError(problems: ["TLS_CERT and TLS_KEY must be set together"])) {
            try env.validate()
        }
        #expect(ConfigurationError(problems: ["A: x"]).description == "invalid configuration (1 problem): A: x")
    }

    @Test func defaultsToProcessEnvironment() {
        let env = Environment()
        #expect(env.string("PATH") != nil)
    }
}
