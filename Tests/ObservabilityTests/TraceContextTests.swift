import Testing
import BulkheadObservability

@Suite("TraceContext")
struct TraceContextTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentID = "00f067aa0ba902b7"
    static let valid = "00-\(traceID)-\(parentID)-01"

    @Test func parsesTheSpecExample() throws {
        let context = try #require(TraceContext(traceparent: Self.valid))
        #expect(context.traceID == Self.traceID)
        #expect(context.spanID == Self.parentID)
        #expect(context.flags == 0x01)
        #expect(context.isSampled)
        #expect(context.traceIDHigh == 0x4bf9_2f35_77b3_4da6)
        #expect(context.traceIDLow == 0xa3ce_929d_0e0e_4736)
        #expect(context.traceparentValue == Self.valid)
        #expect(context.description == Self.valid)
    }

    @Test(arguments: [
        "00-\(traceID)-\(parentID)-00",          // not sampled
        "00-\(traceID)-\(parentID)-09",          // unknown flag bits are carried
        "00-\(traceID)-\(parentID)-ff",
        "00-00000000000000000000000000000001-0000000000000001-01",
    ])
    func validVersion00(header: String) throws {
        let context = try #require(TraceContext(traceparent: header))
        #expect(context.traceparentValue == header)
    }

    @Test func unsampledFlag() throws {
        let context = try #require(TraceContext(traceparent: "00-\(Self.traceID)-\(Self.parentID)-00"))
        #expect(!context.isSampled)
        #expect(context.flags == 0)
    }

    @Test(arguments: [
        "",
        "00",
        "00-00000000000000000000000000000000-\(parentID)-01",   // all-zero trace id
        "00-\(traceID)-0000000000000000-01",                   // all-zero parent id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-\(parentID)-01",  // uppercase trace id
        "00-\(traceID)-00F067AA0BA902B7-01",                   // uppercase parent id
        "00-\(traceID)-\(parentID)-0A",                        // uppercase flags
        "0A-\(traceID)-\(parentID)-01",                        // uppercase version
        "ff-\(traceID)-\(parentID)-01",                        // version ff is invalid
        "00-4bf92f3577b34da6a3ce929d0e0e473-\(parentID)-01",   // 31-hex trace id
        "00-4bf92f3577b34da6a3ce929d0e0e47366-\(parentID)-01", // 33-hex trace id
        "00-\(traceID)-00f067aa0ba902b-01",                    // 15-hex parent id
        "00-\(traceID)-00f067aa0ba902b77-01",                  // 17-hex parent id
        "00-\(traceID)-\(parentID)-1",                         // 1-hex flags
        "00-\(traceID)-\(parentID)-011",                       // 3-hex flags
        "0-\(traceID)-\(parentID)-01",                         // 1-hex version
        "000-\(traceID)-\(parentID)-01",                       // 3-hex version
        "00-\(traceID)-\(parentID)-01-extra",                  // version 00 must be exactly 55 long
        "00-\(traceID)-\(parentID)-01 x",
        "00_\(traceID)_\(parentID)_01",                        // wrong separators
        "00-\(traceID)-\(parentID)01-",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-\(parentID)-01",  // not hex
        "00-\(traceID)-00f067aa0ba9 2b7-01",                   // space inside
        "zz-\(traceID)-\(parentID)-01",                        // version not hex
        "cc-\(traceID)-\(parentID)-01.what-the-future-will-be-like", // future version, no dash after flags
        "cc-\(traceID)-\(parentID)-0",                         // future version, too short
        "cc-00000000000000000000000000000000-\(parentID)-01",  // future version, zero trace id
    ])
    func rejectsInvalid(header: String) {
        #expect(TraceContext(traceparent: header) == nil, "accepted \(header)")
    }

    @Test(arguments: [
        "01-\(traceID)-\(parentID)-01",
        "cc-\(traceID)-\(parentID)-01-what-the-future-will-be-like",
        "fe-\(traceID)-\(parentID)-01-",
    ])
    func acceptsFutureVersions(header: String) throws {
        let context = try #require(TraceContext(traceparent: header))
        #expect(context.traceID == Self.traceID)
        #expect(context.spanID == Self.parentID)
        // We only speak version 00, so that is what we send on.
        #expect(context.traceparentValue == Self.valid)
    }

    @Test func ignoresSurroundingWhitespace() {
        #expect(TraceContext(traceparent: "  \t\(Self.valid) \t")?.traceparentValue == Self.valid)
    }

    @Test func childKeepsTraceIDAndFlags() throws {
        let parent = try #require(TraceContext(traceparent: "00-\(Self.traceID)-\(Self.parentID)-00"))
        let child = parent.child()
        #expect(child.traceID == parent.traceID)
        #expect(child.flags == parent.flags)
        #expect(child.spanID != parent.spanID)
        #expect(child.spanIDValue != 0)
        #expect(TraceContext(traceparent: child.traceparentValue) == child)
    }

    @Test func randomContextsAreValidAndDistinct() throws {
        var seen = Set<String>()
        for _ in 0..<100 {
            let context = TraceContext.random()
            #expect(context.isSampled)
            #expect(context.traceID.count == 32 && context.spanID.count == 16)
            #expect(TraceContext(traceparent: context.traceparentValue) == context)
            seen.insert(context.traceID)
        }
        #expect(seen.count == 100)
        #expect(!TraceContext.random(sampled: false).isSampled)
    }

    /// A generator that returns zeros first, to check that zero ids are skipped.
    struct ZerosThenCount: RandomNumberGenerator {
        var state: UInt64 = 0
        var zeros = 3
        mutating func next() -> UInt64 {
            if zeros > 0 { zeros -= 1; return 0 }
            state += 1
            return state
        }
    }

    @Test func zeroIDsAreNeverGenerated() {
        var generator = ZerosThenCount()
        let context = TraceContext.random(using: &generator)
        #expect(context.traceparentValue
            == "00-00000000000000000000000000000001-0000000000000002-01")
        var childGenerator = ZerosThenCount()
        #expect(context.child(using: &childGenerator).spanID == "0000000000000001")
    }

    @Test func memberwiseInitRejectsZeroIDs() {
        #expect(TraceContext(traceIDHigh: 0, traceIDLow: 0, spanID: 1, flags: 1) == nil)
        #expect(TraceContext(traceIDHigh: 0, traceIDLow: 1, spanID: 0, flags: 1) == nil)
        #expect(TraceContext(traceIDHigh: 0, traceIDLow: 1, spanID: 1, flags: 1) != nil)
    }
}
