import Testing
@testable import FlowCore

/// Free text (operator notes and reasons, feed fields outside the contract, nested values) is
/// refused `identifiable` when an NHS-number-shaped run appears anywhere in it, not only when the
/// whole value is one; contract fields keep the whole-value check (their keys are pseudonymous
/// and may hold long digit runs).
@Suite struct IdentifiableFreeTextTests {
    /// An engine with the occupancy alert at AAA firing (raised at once), so that a clean
    /// acknowledgement or silence of it applies.
    static func firingEngine() -> FlowEngine {
        let engine = FlowEngine(config: testConfig(rules: [occupancyRule(for: .zero)]))
        #expect(engine.ingest(bedLine("AAA", at(0), occupied: 97)) == .accepted)
        #expect(engine.ingest(bedLine("AAA", at(5), occupied: 97)) == .accepted)
        return engine
    }

    static func ack(note: String, by: String = "Priya Shah", at minute: Int64 = 6) -> String {
        OperatorAction(id: nextID(), at: at(minute), kind: .acknowledge(rule: "occ", site: "AAA", by: by, note: note)).jsonLine
    }

    static func silence(reason: String, by: String = "Priya Shah") -> String {
        OperatorAction(id: nextID(), at: at(6), kind: .silence(site: "AAA", rule: "occ", until: at(60), by: by, reason: reason)).jsonLine
    }

    static func refusal(_ outcome: FlowEngine.Outcome) -> Rejection? {
        if case .rejected(let r) = outcome { return r }
        return nil
    }

    /// Whether an operator line was applied; nil when it was not read as an operator action.
    static func applied(_ outcome: FlowEngine.Outcome) -> Bool? {
        if case .operatorAction(_, let applied) = outcome { return applied }
        return nil
    }

    @Test("an ack whose note holds an NHS number, plain or grouped, is refused naming the note")
    func ackNotesWithAnNHSNumberAreRefused() {
        let engine = Self.firingEngine()
        for note in ["patient 9434765919 in corridor", "pt 943 476 5919", "pt 943-476-5919 bay 4", "9434765919 waiting",
                     "waiting:9434765919", "NHS no.943 476 5919."] {
            let r = Self.refusal(engine.ingest(Self.ack(note: note)))
            #expect(r?.reason == .identifiable, "\(note)")
            #expect(r?.field == "note", "\(note)")
            #expect(r?.detail.contains("contains a value shaped like an NHS number") == true, "\(String(describing: r))")
        }
        let r = Self.refusal(engine.ingest(Self.ack(note: "ok", by: "Priya 9434765919")))
        #expect(r?.reason == .identifiable && r?.field == "by")
        // The alert is still there to acknowledge with a clean note: nothing was applied.
        #expect(Self.applied(engine.ingest(Self.ack(note: "opening ward 7"))) == true, "a clean ack is applied")
    }

    @Test("a silence whose reason holds an NHS number is refused naming the reason")
    func silenceReasonsWithAnNHSNumberAreRefused() {
        let engine = Self.firingEngine()
        for reason in ["bed for 943 476 5919", "pt 9434765919", "awaiting 943-476-5919"] {
            let r = Self.refusal(engine.ingest(Self.silence(reason: reason)))
            #expect(r?.reason == .identifiable, "\(reason)")
            #expect(r?.field == "reason", "\(reason)")
            // Reported as the whole-value case is (the same rejection, with its own sentence).
            #expect(r?.description.hasPrefix("identifiable: field reason: contains a value shaped like an NHS number") == true,
                    "\(String(describing: r))")
        }
        // `reason` is a contract field name too: the operator parser itself refuses it.
        guard case .failure(let p)? = OperatorAction.parse(Self.silence(reason: "pt 9434765919")) else {
            Issue.record("the parser accepted a reason with an NHS number"); return
        }
        #expect(p.reason == .identifiable && p.field == "reason")
        #expect(Self.applied(engine.ingest(Self.silence(reason: "diverting to Watford"))) == true, "a clean silence is applied")
    }

    @Test("digit runs that are not NHS numbers stay in operator notes")
    func notesWithOtherNumbersAreAccepted() {
        let engine = Self.firingEngine()
        // A wrong check digit; eleven digits that hold a valid ten (either end); a group too
        // long; mixed separators; other groupings; ordinary numbers.
        for note in ["ref 9434765918", "call 94347659190", "call 19434765919", "943 476 59190", "943 476-5919",
                     "9434 765 919", "ward 7, 12 beds, 2026-01-13"] {
            #expect(Self.refusal(engine.ingest(Self.ack(note: note, at: 6))) == nil, "\(note)")
        }
    }

    static let head = #"{"feed":"bed","id":"b1","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":1"#

    @Test("a feed line with a field outside the contract holding an NHS number is refused naming it")
    func unknownFeedFieldsAreFreeText() {
        var decoder = FeedDecoder(units: testConfig().units)
        let refused: [(String, String)] = [
            (#","comment":"patient 9434765919"}"#, "comment"),
            (#","comment":"seen 943 476 5919 at 08:00"}"#, "comment"),
            (#","comment":"pt \u0039434765919"}"#, "comment"),   // escaped digits are read as digits
            (#","x":1,"remark":"x-943-476-5919"}"#, "remark"),
        ]
        for (tail, field) in refused {
            guard case .failure(let r) = decoder.decode(Self.head + tail) else { Issue.record("accepted \(tail)"); continue }
            #expect(r.reason == .identifiable && r.field == field, "\(tail) -> \(r)")
            #expect(r.detail.hasPrefix("contains a value shaped like an NHS number"), "\(r)")
        }
        for tail in [#","comment":"ref 9434765918"}"#, #","comment":"12345678901"}"#, #","comment":"94347659190"}"#,
                     #","comment":"943 476-5919"}"#, "}"] {
            #expect((try? decoder.decode(Self.head + tail).get()) != nil, "\(tail)")
        }
    }

    @Test("nested values are free text at any depth")
    func nestedValuesAreFreeText() {
        var decoder = FeedDecoder(units: testConfig().units)
        let refused: [(String, String)] = [
            (#","meta":{"who":"pt 9434765919."}}"#, "meta.who"),
            // Named by its path, where it said "array element" (user test, 2026-11-25).
            (#","meta":{"notes":["ok","seen 943-476-5919"]}}"#, "meta.notes[1]"),
            (#","meta":[{"a":{"b":"x 943 476 5919 y"}}]}"#, "meta[0].a.b"),
            (#","meta":{"x":[1,"a,b:c]",{"k":"}"},{"nhs":9434765919}]}}"#, "meta.x[3].nhs"),
            (#","meta":[[],[{},[true,null,{"y":{},"z":"Mr J. Smith"}]]]}"#, "meta[1][1][2].z"),
        ]
        for (tail, field) in refused {
            guard case .failure(let r) = decoder.decode(Self.head + tail) else { Issue.record("accepted \(tail)"); continue }
            #expect(r.reason == .identifiable && r.field == field, "\(tail) -> \(r)")
        }
        #expect((try? decoder.decode(Self.head + #","meta":{"who":["ref 9434765918","12345678901"]}}"#).get()) != nil)
    }

    @Test("contract fields keep the whole-value check: a pseudonymous key may hold ten digits")
    func contractKeysMayHoldDigitRuns() {
        var decoder = FeedDecoder(units: testConfig().units)
        let arrived = #"{"feed":"ambulance","id":"amb-9434765919","at":"2026-01-05T08:02:11Z","site":"AAA","kind":"arrived","incident":"inc-9434765919","category":2}"#
        #expect((try? decoder.decode(arrived).get()) != nil)
        let start = #"{"feed":"dtoc","id":"d1","at":"2026-01-05T09:12:00Z","site":"BBB","kind":"start","patient":"pk 943 476 5919","reason":"DII","org":"social","pathway":"P3"}"#
        #expect((try? decoder.decode(start).get()) != nil)
        // The whole value is still refused there.
        guard case .failure(let r) = decoder.decode(arrived.replacingOccurrences(of: "inc-9434765919", with: "9434765919")) else {
            Issue.record("accepted an incident that is an NHS number"); return
        }
        #expect(r.reason == .identifiable && r.field == "incident")
    }

    @Test("the run search against the reference's on generated text")
    func runSearchAgreesWithTheReference() {
        #expect(NHSNumber.containsNHSNumber("9434765919"))
        #expect(NHSNumber.containsNHSNumber("a943 476 5919b"))
        #expect(!NHSNumber.containsNHSNumber("12345678901"))
        #expect(!NHSNumber.containsNHSNumber("943 476 5919 0".replacingOccurrences(of: " 0", with: "0")))
        var rng = SplitMix(seed: 0x0a11_d161_75)
        let pieces = ["9434765919", "943", "476", "5919", "4010232137", "401", "023", "2137", "0", "1", "9", " ", "-", "x", "\u{e9}", "  "]
        var found = 0
        for _ in 0..<40_000 {
            var s = ""
            for _ in 0..<(1 + rng.below(8)) { s += pieces[rng.below(pieces.count)] }
            let fast = NHSNumber.containsNHSNumber(s), ref = RefNHSNumber.containsRefNHSNumber(s)
            if fast { found += 1 }
            #expect(fast == ref, "'\(s)': fast \(fast), reference \(ref)")
            if fast != ref { break }
        }
        #expect(found > 1000)
    }
}
