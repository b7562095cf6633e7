import Foundation
import Testing
@testable import FlowCore

@Suite struct FeedDecoderTests {
    var decoder = FeedDecoder(units: testConfig().units)

    mutating func reject(_ line: String) -> Rejection? {
        if case .failure(let r) = decoder.decode(line) { return r }
        return nil
    }

    @Test mutating func decodesEveryFeedOfTheContract() throws {
        let bed = try decoder.decode(#"{"feed":"bed","id":"b1","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":640,"ga_core_occupied":618,"esc_open":24,"esc_occupied":22,"closed":6,"ed_in_department":81,"ed_dta_waiting":23,"ed_4h_pct":71.4,"ed_breaches_since_midnight":19,"ed_over_12h":7,"declared_opel":3}"#).get()
        #expect(bed.feed == .bed && bed.site == 0)
        guard case .bed(let b) = bed.payload else { Issue.record("not bed"); return }
        #expect(b.coreOpen == 640 && b.coreOccupied == 618 && b.escalationOpen == 24 && b.ed4hPct == 71.4 && b.declaredOpel == 3)

        let minimal = try decoder.decode(#"{"feed":"bed","id":"b2","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":640,"ga_core_occupied":618,"closed":null}"#).get()
        guard case .bed(let m) = minimal.payload else { Issue.record("not bed"); return }
        #expect(m.escalationOpen == nil && m.closed == nil && m.edInDepartment == nil, "absent stays absent, not zero")

        let start = try decoder.decode(#"{"feed":"dtoc","id":"d1","at":"2026-01-05T09:12:00Z","site":"BBB","kind":"start","patient":"pk-4f1c9a","reason":"DII","org":"social","pathway":"P3","ready_since":"2026-01-05T07:30:00Z"}"#).get()
        guard case .dtoc(.start(_, let reason, let org, let pathway, let ready)) = start.payload else { Issue.record("not start"); return }
        #expect(reason == .dii && org == .social && pathway == .p3 && iso(ready) == "2026-01-05T07:30:00Z")

        let snap = try decoder.decode(#"{"feed":"dtoc","id":"d2","at":"2026-01-05T08:00:00Z","site":"COM","kind":"snapshot","patients":14,"nhs":9,"social":4,"both":1,"p1":6}"#).get()
        guard case .dtoc(.snapshot(let c)) = snap.payload else { Issue.record("not snapshot"); return }
        #expect(c.patients == 14 && c.byOrg == [9, 4, 1] && c.byPathway == [nil, 6, nil, nil])

        let calls = try decoder.decode(#"{"feed":"111","id":"i1","at":"2026-01-05T08:15:00+00:00","site":"111","minutes":15,"offered":96,"answered":91,"answered_60s":63,"abandoned":4,"disp_ambulance":9}"#).get()
        guard case .nhs111(let v) = calls.payload else { Issue.record("not 111"); return }
        #expect(v.offered == 96 && v.answeredWithin60s == 63 && v.dispAmbulance == 9 && v.dispED == nil)

        let arrived = try decoder.decode(#"{"feed":"ambulance","id":"a1","at":"2026-01-05T08:02:11Z","site":"AAA","kind":"arrived","incident":"inc-1","category":2}"#).get()
        guard case .ambulance(.arrived(_, let cat)) = arrived.payload else { Issue.record("not arrived"); return }
        #expect(cat == 2)

        let status = try decoder.decode(#"{"feed":"ambulance","id":"s1","at":"2026-01-05T08:00:00Z","site":"AMB","kind":"status","stack_waiting":212,"cat2_mean_s":2710}"#).get()
        guard case .ambulance(.status(let st)) = status.payload else { Issue.record("not status"); return }
        #expect(st.stackWaiting == 212 && st.cat2MeanSeconds == 2710 && st.cat1MeanSeconds == nil)
    }

    @Test mutating func toleratesUnknownFieldsWhitespaceAndEscapes() throws {
        let m = try decoder.decode(#"  { "feed" : "bed" , "id":"b\u0031","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":5,"extra":{"a":[1,2,{"b":null}]},"note":"caf\u00e9 \"x\""}  "#).get()
        #expect(m.feed == .bed)
    }

    @Test mutating func everyRejectionNamesItsReasonAndField() {
        let cases: [(String, RejectionReason, String?)] = [
            (#"not json"#, .malformed, nil),
            (#"{"feed":"bed","id":"x""#, .malformed, nil),
            (#"[1,2]"#, .malformed, nil),
            (#"{"feed":"bed","id":"x",}"#, .malformed, nil),
            (#"{"feed":"beds","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA"}"#, .unknownFeed, "feed"),
            (#"{"id":"x","at":"2026-01-05T08:00:00Z","site":"AAA"}"#, .missingField, "feed"),
            (#"{"feed":"bed","v":2,"id":"x","at":"2026-01-05T08:00:00Z","site":"AAA"}"#, .unsupportedVersion, "v"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"ZZZ","ga_core_open":1,"ga_core_occupied":1}"#, .unknownSite, "site"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"111","ga_core_open":1,"ga_core_occupied":1}"#, .unknownSite, "site"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10}"#, .missingField, "ga_core_occupied"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":"10","ga_core_occupied":1}"#, .badType, "ga_core_open"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10.5,"ga_core_occupied":1}"#, .badType, "ga_core_open"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":11}"#, .outOfRange, "ga_core_occupied"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":-1}"#, .outOfRange, "ga_core_occupied"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":1,"declared_opel":5}"#, .outOfRange, "declared_opel"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00","site":"AAA","ga_core_open":10,"ga_core_occupied":1}"#, .badType, "at"),
            (#"{"feed":"bed","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":1}"#, .missingField, "id"),
            (#"{"feed":"111","id":"x","at":"2026-01-05T08:00:00Z","site":"111","offered":10,"answered":11,"answered_60s":1,"abandoned":0}"#, .outOfRange, "answered"),
            (#"{"feed":"dtoc","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"start","patient":"p1","reason":"Z","org":"nhs","pathway":"P1"}"#, .outOfRange, "reason"),
            (#"{"feed":"dtoc","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"start","patient":"p1","reason":"A","org":"nhs","pathway":"P1","ready_since":"2026-01-06T08:00:00Z"}"#, .outOfRange, "ready_since"),
            (#"{"feed":"ambulance","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident":"i","category":5}"#, .outOfRange, "category"),
            (#"{"feed":"ambulance","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"status","stack_waiting":5}"#, .unknownSite, "site"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":1,"NHS_Number":"x"}"#, .identifiable, "NHS_Number"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":1,"ref":"943 476 5919"}"#, .identifiable, "ref"),
            (#"{"feed":"dtoc","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"end","patient":"9434765919"}"#, .identifiable, "patient"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","meta":{"who":{"Date_Of_Birth":"1950-01-01"}}}"#, .identifiable, "Date_Of_Birth"),
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","meta":[9434765919]}"#, .identifiable, nil),
        ]
        for (line, reason, field) in cases {
            let r = reject(line)
            #expect(r?.reason == reason, "\(line) -> \(String(describing: r))")
            if let field { #expect(r?.field == field, "\(line) -> \(String(describing: r))") }
            #expect(!(r?.description.isEmpty ?? true))
            #expect(!(r?.description.contains("Optional(") ?? false), "\(String(describing: r))")
        }
    }

    @Test func nhsNumberCheckDigit() {
        #expect(NHSNumber.isValid("9434765919"))
        #expect(NHSNumber.isValid("943-476-5919"))
        #expect(!NHSNumber.isValid("9434765918"), "wrong check digit")
        #expect(!NHSNumber.isValid("943476591"))
        #expect(!NHSNumber.isValid("94347659190"))
        #expect(!NHSNumber.isValid("943 476-5919"))
    }

    /// The scanner agrees with Foundation's parser on what is a valid JSON object.
    @Test(arguments: [
        #"{}"#, #"{"a":1}"#, #"{"a":-0.5e+3}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":"\u12"}"#,
        #"{"a":"\x"}"#, #"{"a":tru}"#, #"{"a":true,"b":false,"c":null}"#, #"{"a":[1,[2,[3]]],"b":{"c":{}}}"#,
        #"{"a" 1}"#, #"{"a":1}x"#, "{\"a\":\"tab\there\"}", #"{"a":"\ud83d\ude00"}"#,
        #"{"a":1 , "b" : [ ] }"#, #"{"a":-}"#, #"{"a":1e}"#, #"{1:2}"#, #"{"a":[}"#, #"{"a":"é"}"#,
    ])
    func scannerAgreesWithFoundation(_ text: String) {
        var scanner = JSONLineScanner()
        var s = text
        let ours = s.withUTF8 { scanner.scan($0) } == nil
        let theirs = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any]
        #expect(ours == theirs, "\(text): scanner \(ours), Foundation \(theirs)")
    }

    /// Trailing commas are invalid in RFC 8259; Foundation on Linux accepts them, the scanner does not.
    @Test(arguments: [#"{"a":[1,]}"#, #"{"a":{"b":1,}}"#, #"{"a":1,}"#])
    func scannerIsStricterThanFoundationOnTrailingCommas(_ text: String) {
        var scanner = JSONLineScanner()
        var s = text
        #expect(s.withUTF8 { scanner.scan($0) } != nil)
    }

    @Test func scannerRejectsInvalidUTF8AndDeepNesting() {
        var scanner = JSONLineScanner()
        let bad: [UInt8] = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(bad.withUnsafeBufferPointer { scanner.scan($0) } != nil)
        let deep = "{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        var d = deep
        #expect(d.withUTF8 { scanner.scan($0) } != nil)
    }

    @Test func sanitiseNeutralisesControlCharacters() {
        #expect(Sanitise.text("Lister\u{1B}[2J") == "Lister\u{FFFD}[2J")
        #expect(Sanitise.text("a\u{9B}b\u{7F}") == "a\u{FFFD}b\u{FFFD}")
        #expect(Sanitise.text("Princess Alexandra") == "Princess Alexandra")
    }
}
