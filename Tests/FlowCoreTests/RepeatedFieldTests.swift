import Testing
@testable import FlowCore

/// A line that gives a contract field twice is refused (`malformed`, naming the field): which
/// value was meant cannot be known, and the last one winning showed G&A occupancy 1.6%.
@Suite struct RepeatedFieldTests {
    static let bed = #"{"feed":"bed","id":"b1","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":640,"ga_core_occupied":620"#

    static func refusal(_ line: String) -> Rejection? {
        var decoder = FeedDecoder(units: testConfig().units)
        if case .failure(let r) = decoder.decode(line) { return r }
        return nil
    }

    /// The 1-based column of the last `"name"` in `line` (where the field is given again).
    static func column(of name: String, in line: String) -> Int {
        let u = Array(line.utf8), key = Array("\"\(name)\"".utf8)
        let k = (0...(u.count - key.count)).last { Array(u[$0..<($0 + key.count)]) == key }!
        return k + 1
    }

    @Test("a repeated contract field is refused as malformed, naming it and where it is given again")
    func repeatedContractFieldsAreRefused() {
        let cases: [(String, String)] = [
            (Self.bed + #","ga_core_occupied":10}"#, "ga_core_occupied"),
            (Self.bed + #","closed":null,"esc_open":3,"closed":2}"#, "closed"),
            (#"{"feed":"bed","feed":"bed","id":"b1","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":640,"ga_core_occupied":620}"#, "feed"),
            (Self.bed + #","site":"BBB"}"#, "site"),
            // The first field given again is named, however often and whatever follows.
            (Self.bed + #","esc_open":1,"esc_open":2,"esc_open":3,"ga_core_open":1}"#, "esc_open"),
            (#"{"feed":"ambulance","id":"a1","at":"2026-01-05T08:02:11Z","site":"AAA","kind":"arrived","incident":"i1","category":2,"incident":"i2"}"#, "incident"),
        ]
        for (line, field) in cases {
            let r = Self.refusal(line)
            #expect(r?.reason == .malformed, "\(line) -> \(String(describing: r))")
            #expect(r?.field == field, "\(line) -> \(String(describing: r))")
            let col = field == "esc_open" ? Self.column(of: "esc_open", in: Self.bed + #","esc_open":1,"esc_open""#) : Self.column(of: field, in: line)
            #expect(r?.detail == "appears twice (again at column \(col)); a field of the contract may be given once", "\(String(describing: r))")
        }
    }

    @Test("repeated names outside the contract are ignored, as the names are")
    func repeatedUnknownFieldsAreIgnored() throws {
        var decoder = FeedDecoder(units: testConfig().units)
        let m = try decoder.decode(Self.bed + #","note":"a","note":"b","x":{"y":1,"y":2}}"#).get()
        guard case .bed(let b) = m.payload else { Issue.record("not bed"); return }
        #expect(b.coreOpen == 640 && b.coreOccupied == 620)
    }

    @Test("the engine refuses the line, attributes it to its feed and site, and keeps the state before")
    func theEngineKeepsTheStateBefore() {
        let engine = FlowEngine(config: testConfig())
        #expect(engine.ingest(bedLine("AAA", at(0), open: 640, occupied: 620)) == .accepted)
        let line = bedLine("AAA", at(10), open: 640, occupied: 620, extra: #","ga_core_occupied":10"#)
        guard case .rejected(let r) = engine.ingest(line) else { Issue.record("accepted \(line)"); return }
        #expect(r.reason == .malformed && r.field == "ga_core_occupied" && r.feed == .bed && r.site == "AAA", "\(r)")
        #expect(engine.acceptedTotal == 1 && engine.rejectedTotal == 1)
    }

    @Test("the reference decoder refuses the same lines with the same rejection")
    func theReferenceAgrees() {
        var fast = FeedDecoder(units: testConfig().units)
        var ref = RefFeedDecoder(units: testConfig().units)
        var issues = 0
        let lines = [
            Self.bed + #","ga_core_occupied":10}"#, Self.bed + #","ga_core_open":10,"ga_core_occupied":10}"#,
            Self.bed + #","note":"a","note":"b"}"#, Self.bed + #","closed":null,"closed":null}"#,
            Self.bed + #","ga_core_occupied":10,"patient":"9434765919"}"#,   // the identifiable data is refused first
            Self.bed + #","ga_core_occupied":10,"#,                           // and a grammar error
        ]
        for line in lines { FastDecoderAgreementTests.agree(&fast, &ref, Array(line.utf8), &issues) }
        #expect(issues == 0)
        #expect(Self.refusal(lines[4])?.reason == .identifiable)
        #expect(Self.refusal(lines[5])?.reason == .malformed && Self.refusal(lines[5])?.field == nil)
    }
}
