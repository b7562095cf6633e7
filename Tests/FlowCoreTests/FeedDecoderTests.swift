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
            (#"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","meta":{"who":{"Date_Of_Birth":"1950-01-01"}}}"#, .identifiable, "meta.who.Date_Of_Birth"),
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

/// The fast decoder against the frozen reference copy of the decoder it replaced (ReferenceDecoder.swift) and
/// against Foundation: same messages, same rejections, on real and on mangled lines.
@Suite struct FastDecoderAgreementTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func hertsConfig() throws -> SystemConfig {
        let file = root.appendingPathComponent("Scenarios/herts-west-essex.yaml")
        return try ConfigLoader.load(yaml: String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent)
    }

    /// Every line of the bundled scenarios (generated by FlowScenarios; feed-outage has
    /// deliberately invalid lines).
    static func scenarioLines() throws -> [[UInt8]] {
        let names = ["boxing-day-surge", "feed-outage", "handover-crisis", "october-clock-change", "winter-weekday"]
        var out: [[UInt8]] = []
        for name in names {
            let data = try Data(contentsOf: root.appendingPathComponent("Scenarios/\(name).jsonl"))
            out += data.split(separator: 10, omittingEmptySubsequences: true).map { Array($0) }
        }
        return out
    }

    /// The hand-written lines of `everyRejectionNamesItsReasonAndField` and friends, for the test units.
    static let handLines: [String] = [
        #"{"feed":"bed","id":"b1","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":640,"ga_core_occupied":618,"esc_open":24,"esc_occupied":22,"closed":6,"ed_in_department":81,"ed_dta_waiting":23,"ed_4h_pct":71.4,"ed_breaches_since_midnight":19,"ed_over_12h":7,"declared_opel":3}"#,
        #"{"feed":"dtoc","id":"d1","at":"2026-01-05T09:12:00Z","site":"BBB","kind":"start","patient":"pk-4f1c9a","reason":"DII","org":"social","pathway":"P3","ready_since":"2026-01-05T07:30:00Z"}"#,
        #"{"feed":"dtoc","id":"d2","at":"2026-01-05T08:00:00Z","site":"COM","kind":"snapshot","patients":14,"nhs":9,"social":4,"both":1,"p1":6}"#,
        #"{"feed":"dtoc","id":"d3","at":"2026-01-05T08:00:00Z","site":"COM","kind":"end","patient":"pk-4f1c9a"}"#,
        #"{"feed":"111","id":"i1","at":"2026-01-05T08:15:00+00:00","site":"111","minutes":15,"offered":96,"answered":91,"answered_60s":63,"abandoned":4,"disp_ambulance":9}"#,
        #"{"feed":"ambulance","id":"a1","at":"2026-01-05T08:02:11Z","site":"AAA","kind":"arrived","incident":"inc-1","category":2}"#,
        #"{"feed":"ambulance","id":"a2","at":"2026-01-05T08:02:11.25-01:30","site":"BBB","kind":"handover","incident":"inc-1","arrived_at":"2026-01-05T07:02:11Z"}"#,
        #"{"feed":"ambulance","id":"a3","at":"2026-01-05T08:02:11Z","site":"AAA","kind":"clear","incident":"inc-1"}"#,
        #"{"feed":"ambulance","id":"s1","at":"2026-01-05T08:00:00Z","site":"AMB","kind":"status","stack_waiting":212,"cat2_mean_s":2710}"#,
        #"  { "feed" : "bed" , "id":"b\u0031","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":5,"extra":{"a":[1,2,{"b":null}]},"note":"caf\u00e9 \"x\""}  "#,
        #"{"feed":"dtoc","v":1,"id":"x","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"start","patient":"p1","reason":"\u0041","org":"n\u0068s","pathway":"P\u0031"}"#,
    ]

    /// Fragments a mutation splices in: every kind of value, field names near the contract's
    /// and the identifiable ones, NHS-number shapes, broken grammar and UTF-8.
    static let values: [String] = [
        #""9434765919""#, #""943 476 5919""#, #""943-476-5919""#, "9434765919", #""9434765918""#, #""943 476-5919""#,
        #""patient 9434765919 in corridor""#, #""pt 943-476-5919.""#, #""94347659190""#, #""inc-9434765919""#,
        #""pt \u0039434765919""#, #"{"n":["x 943 476 5919"]}"#,
        "null", "true", "false", "-1", "-0", "0", "1", "2", "4", "5", "15", "60", "61", "10000000", "10000001", "9999999",
        "12345678901234567890", "1e2", "1.0", "0.1e1", "71.4", "99.99", "100", "100.0", "100.5", "100.0000000000001",
        "0.30000000000000004", "-71.4", "1E+2", "3.14159265358979", "123456789012345.6",
        #""A""#, #""\u0041""#, #""DI""#, #""DII""#, #""Z""#, #""social""#, #""nhs""#, #""both""#, #""P1""#, #""P4""#,
        #""2026-01-05T08:00:00Z""#, #""2026-01-05T08:00:00.5+01:00""#, #""2026-02-30T08:00:00Z""#, #""2026-01-05T08:00:00""#,
        #""2024-02-29T23:59:60.123456z""#, #""2026-01-05 08:00:00-00:30""#, #""2026-01-05T24:00:00Z""#, #""2026-01-05T08:00:00.Z""#,
        #"{"a":[1,{"dob":1}]}"#, "[9434765919]", #"{"x":{"y":"943 476 5919"}}"#, "[[[[]]]]", "{}", "[]", #"[1,"a",{"b":[true,null]}]"#,
        #""""#, "\"" + String(repeating: "x", count: 129) + "\"", "\"" + String(repeating: "k", count: 64) + "\"",
        "\"" + String(repeating: "k", count: 65) + "\"",
        #""RWH""#, #""EEAST""#, #""HUC""#, #""HCT""#, #""AAA""#, #""AMB""#, #""111""#, #""COM""#, #""R\u0057H""#,
        #""bed""#, #""dtoc""#, #""ambulance""#, #""beds""#, #""status""#, #""start""#, #""end""#, #""snapshot""#,
        #""arrived""#, #""handover""#, #""clear""#, #""caf\u00e9""#, "\"caf\u{e9}\"", "\"\u{1F600}\"", #""\ud83d\ude00""#,
        #""\ud800""#, #""a\"b""#, #""a\/b""#, #""\x""#, #""\u12""#, "tru", "nul", "-", "01", "1.", ".5", "1e", "+1",
        #""DOB 12/03/1947""#, #""born 1947-03-12""#, #""d.o.b: 1.3.47 bay 4""#, #""ward 7 shut 2026-01-13""#, #""dob\u002012/3/47""#,
        #"{"x":"date of birth 01-02-1950"}"#,
    ]
    static let keys: [String] = [
        "Name", "NAME", "nhs-no", "NHS_Number", "nhs number", "Date_Of_Birth", "PostCode", "hospital number", "Hospital_Number",
        "CHI-Number", "e_mail", "mob_ile", "patient_name", "first-name", "tele phone", "mrn", "DOB", "d_o_b",
        "names", "nam", "phone_x", "x", "note", "comment", "name\u{e9}", "n\\u0061me", "____name____", "a-b-c-d-e-f-g-h-i-j-k-l-m",
        "v", "feed", "kind", "site", "id", "at", "ga_core_open", "ga_core_occupied", "esc_open", "esc_occupied", "ed_4h_pct",
        "declared_opel", "minutes", "offered", "answered", "answered_60s", "abandoned", "category", "arrived_at", "ready_since",
        "patient", "patients", "incident", "reason", "org", "pathway", "stack_waiting", "cat4_p90_s", "ed_breaches_since_midnight",
        "fe\\u0065d", "Feed", "feed ", "p0", "p3", "nhs", "social", "both",
        "patient_dob", "BirthDate", "births_today", "site_name", "patientFirstName", "pt_name", "birthing_unit", "next_of_kin_name",
    ]
    static let bytes: [UInt8] = Array(#"{}[],:"\ 0123456789-+.eEtrufalsn/"#.utf8) + [0, 9, 10, 13, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]

    /// A mangled copy of `line`: one to three random edits.
    static func mutate(_ line: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var l = line
        for _ in 0..<(1 + rng.below(3)) {
            let n = l.count
            switch rng.below(9) {
            case 0 where n > 0: l[rng.below(n)] = bytes[rng.below(bytes.count)]
            case 1 where n > 0: l.remove(at: rng.below(n))
            case 2: l.insert(bytes[rng.below(bytes.count)], at: rng.below(n + 1))
            case 3 where n > 0: l.removeSubrange(rng.below(n)...)
            case 4, 5:
                // Replace the value after a random ':' (up to the next ',' or '}').
                let colons = l.indices.filter { l[$0] == UInt8(ascii: ":") }
                guard let c = colons.randomElement(using: &rng) else { continue }
                var e = c + 1
                while e < l.count, l[e] != UInt8(ascii: ","), l[e] != UInt8(ascii: "}") { e += 1 }
                l.replaceSubrange((c + 1)..<e, with: Array(values[rng.below(values.count)].utf8))
            case 6:
                // Rename a field.
                let colons = l.indices.filter { l[$0] == UInt8(ascii: ":") && $0 > 0 && l[$0 - 1] == UInt8(ascii: "\"") }
                guard let c = colons.randomElement(using: &rng) else { continue }
                var s = c - 2
                while s > 0, l[s] != UInt8(ascii: "\"") { s -= 1 }
                l.replaceSubrange((s + 1)..<(c - 1), with: Array(keys[rng.below(keys.count)].utf8))
            case 7:
                // Add a field (first or last).
                let field = Array("\"\(keys[rng.below(keys.count)])\":\(values[rng.below(values.count)])".utf8)
                if rng.below(2) == 0, l.first == UInt8(ascii: "{") {
                    l.insert(contentsOf: field + [UInt8(ascii: ",")], at: 1)
                } else if let close = l.lastIndex(of: UInt8(ascii: "}")) {
                    l.insert(contentsOf: [UInt8(ascii: ",")] + field, at: close)
                }
            default:
                // Drop a field.
                let commas = l.indices.filter { l[$0] == UInt8(ascii: ",") }
                guard let c = commas.randomElement(using: &rng) else { continue }
                var e = c + 1
                while e < l.count, l[e] != UInt8(ascii: ","), l[e] != UInt8(ascii: "}") { e += 1 }
                l.removeSubrange(c..<e)
            }
        }
        return l
    }

    /// Both decoders on `line`: equal results, and the public scanner agrees with its reference.
    static func agree(_ fast: inout FeedDecoder, _ ref: inout RefFeedDecoder, _ line: [UInt8], _ issues: inout Int) {
        let a = line.withUnsafeBufferPointer { fast.decode($0) }
        let b = line.withUnsafeBufferPointer { ref.decode($0) }
        var scanner = JSONLineScanner()
        var refScanner = RefScanner()
        let sa = line.withUnsafeBufferPointer { scanner.scan($0) }
        let sb = line.withUnsafeBufferPointer { refScanner.scan($0) }
        let fa = scanner.fields.map { "\($0.keyStart) \($0.keyEnd) \($0.valueStart) \($0.valueEnd) \($0.kind) \($0.hasEscapes) \($0.boolValue)" }
        let fb = refScanner.fields.map { "\($0.keyStart) \($0.keyEnd) \($0.valueStart) \($0.valueEnd) \($0.kind) \($0.hasEscapes) \($0.boolValue)" }
        let ok = a == b && describe(sa) == describe(sb) && fa == fb
        if !ok {
            issues += 1
            if issues <= 20 {
                Issue.record("\(String(decoding: line, as: UTF8.self))\n fast: \(a)\n  ref: \(b)\n scan: \(describe(sa)) / \(describe(sb))")
            }
        }
    }

    static func describe(_ f: JSONLineScanner.Failure?) -> String {
        switch f {
        case nil: return "ok"
        case .malformed(let offset, let what): return "malformed \(offset) \(what)"
        case .identifiable(let field, let why): return "identifiable \(field) \(why)"
        }
    }

    static func describe(_ f: RefScanner.Failure?) -> String {
        switch f {
        case nil: return "ok"
        case .malformed(let offset, let what): return "malformed \(offset) \(what)"
        case .identifiable(let field, let why): return "identifiable \(field) \(why)"
        }
    }

    @Test func agreesWithTheReferenceOnEveryScenarioLine() throws {
        let config = try Self.hertsConfig()
        var fast = FeedDecoder(units: config.units)
        var ref = RefFeedDecoder(units: config.units)
        var issues = 0
        let lines = try Self.scenarioLines()
        #expect(lines.count > 15_000)
        for line in lines { Self.agree(&fast, &ref, line, &issues) }
        #expect(issues == 0)
    }

    @Test func agreesWithTheReferenceOnMangledLines() throws {
        let config = try Self.hertsConfig()
        var rng = SplitMix(seed: 0x5eed_dec0de)
        var issues = 0
        // Scenario lines against the real configuration.
        var fast = FeedDecoder(units: config.units)
        var ref = RefFeedDecoder(units: config.units)
        let lines = try Self.scenarioLines()
        for _ in 0..<25_000 {
            Self.agree(&fast, &ref, Self.mutate(lines[rng.below(lines.count)], &rng), &issues)
        }
        // Hand-made lines against the test units (every unit kind, every feed and kind).
        var fastT = FeedDecoder(units: testConfig().units)
        var refT = RefFeedDecoder(units: testConfig().units)
        for line in Self.handLines { Self.agree(&fastT, &refT, Array(line.utf8), &issues) }
        for _ in 0..<25_000 {
            let line = Array(Self.handLines[rng.below(Self.handLines.count)].utf8)
            Self.agree(&fastT, &refT, Self.mutate(line, &rng), &issues)
        }
        #expect(issues == 0)
    }

    @Test func agreesWithTheReferenceOnEdgeLines() {
        var fast = FeedDecoder(units: testConfig().units)
        var ref = RefFeedDecoder(units: testConfig().units)
        var issues = 0
        let long = "{\"feed\":\"bed\"," + (0..<300).map { "\"f\($0)\":\($0)" }.joined(separator: ",") + "}"
        let deep = "{\"a\":" + String(repeating: "[", count: 32) + String(repeating: "]", count: 32) + "}"
        let deeper = "{\"a\":" + String(repeating: "[", count: 33) + String(repeating: "]", count: 33) + "}"
        let edge: [[UInt8]] = [[], Array(" ".utf8), Array("{".utf8), Array("{\"".utf8), Array("{\"feed".utf8),
                               Array("{\"feed\":\"bed".utf8), Array("{\"feed\":\"bed\\".utf8), Array("{\"feed\":\"bed\\u00".utf8),
                               Array(long.utf8), Array(deep.utf8), Array(deeper.utf8), [0x7B, 0x22, 0xC3], [0x7B, 0x22, 0xF0, 0x9F, 0x98],
                               Array("{\"feed\":\"bed\",\"id\":\"x\",\"at\":\"2026-01-05T08:00:00Z\",\"site\":\"\",\"ga_core_open\":1,\"ga_core_occupied\":1}".utf8)]
        for line in edge {
            Self.agree(&fast, &ref, line, &issues)
            // Every prefix of a valid line (truncation anywhere, including inside words read whole).
        }
        for line in Self.handLines {
            let bytes = Array(line.utf8)
            for k in 0...bytes.count { Self.agree(&fast, &ref, Array(bytes[..<k]), &issues) }
        }
        #expect(issues == 0)
    }

    /// What the fast path accepts, Foundation reads the same way: every value of every
    /// accepted scenario line, compared field by field with `JSONSerialization`.
    @Test func acceptedValuesAgreeWithFoundation() throws {
        let config = try Self.hertsConfig()
        var decoder = FeedDecoder(units: config.units)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime]
        let isoFraction = ISO8601DateFormatter()
        isoFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        func millis(_ any: Any?) -> Int64? {
            guard let s = any as? String, let d = iso.date(from: s) ?? isoFraction.date(from: s) else { return nil }
            return Int64((d.timeIntervalSince1970 * 1000).rounded())
        }
        func int(_ any: Any?) -> Int? { (any as? NSNumber).map { $0.intValue } }
        func double(_ any: Any?) -> Double? { (any as? NSNumber).map { $0.doubleValue } }
        var checked = 0, mismatches = 0
        for line in try Self.scenarioLines() {
            guard case .success(let m) = line.withUnsafeBufferPointer({ decoder.decode($0) }) else { continue }
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            var same = o["feed"] as? String == m.feed.rawValue && o["site"] as? String == config.units[m.site].code
                && millis(o["at"]) == m.at.millis
            switch m.payload {
            case .bed(let b):
                same = same && int(o["ga_core_open"]) == b.coreOpen && int(o["ga_core_occupied"]) == b.coreOccupied
                    && int(o["esc_open"]) == b.escalationOpen && int(o["esc_occupied"]) == b.escalationOccupied
                    && int(o["closed"]) == b.closed && int(o["ed_in_department"]) == b.edInDepartment
                    && int(o["ed_dta_waiting"]) == b.edDecisionsToAdmitWaiting && double(o["ed_4h_pct"]) == b.ed4hPct
                    && int(o["ed_breaches_since_midnight"]) == b.edBreachesSinceMidnight
                    && int(o["ed_over_12h"]) == b.edOver12h && int(o["declared_opel"]) == b.declaredOpel
            case .dtoc(.start(let patient, let reason, let org, let pathway, let ready)):
                same = same && o["kind"] as? String == "start" && (o["patient"] as? String).map(Fingerprint.of) == patient
                    && o["reason"] as? String == reason.rawValue && o["org"] as? String == org.rawValue
                    && o["pathway"] as? String == pathway.rawValue && (millis(o["ready_since"]) ?? m.at.millis) == ready.millis
            case .dtoc(.end(let patient)):
                same = same && o["kind"] as? String == "end" && (o["patient"] as? String).map(Fingerprint.of) == patient
            case .dtoc(.snapshot(let c)):
                same = same && o["kind"] as? String == "snapshot" && int(o["patients"]) == c.patients
                    && ["nhs", "social", "both"].map { int(o[$0]) } == c.byOrg && ["p0", "p1", "p2", "p3"].map { int(o[$0]) } == c.byPathway
            case .nhs111(let v):
                same = same && (int(o["minutes"]) ?? 15) == v.minutes && int(o["offered"]) == v.offered
                    && int(o["answered"]) == v.answered && int(o["answered_60s"]) == v.answeredWithin60s
                    && int(o["abandoned"]) == v.abandoned && int(o["disp_ambulance"]) == v.dispAmbulance
                    && int(o["disp_ed"]) == v.dispED && int(o["disp_primary_care"]) == v.dispPrimaryCare
                    && int(o["disp_self_care"]) == v.dispSelfCare && int(o["disp_other"]) == v.dispOther
            case .ambulance(.arrived(let incident, let category)):
                same = same && o["kind"] as? String == "arrived" && (o["incident"] as? String).map(Fingerprint.of) == incident
                    && int(o["category"]) == category
            case .ambulance(.handover(let incident, let arrivedAt)):
                same = same && o["kind"] as? String == "handover" && (o["incident"] as? String).map(Fingerprint.of) == incident
                    && millis(o["arrived_at"]) == arrivedAt?.millis
            case .ambulance(.clear(let incident)):
                same = same && o["kind"] as? String == "clear" && (o["incident"] as? String).map(Fingerprint.of) == incident
            case .ambulance(.status(let s)):
                same = same && o["kind"] as? String == "status" && int(o["stack_waiting"]) == s.stackWaiting
                    && int(o["cat1_mean_s"]) == s.cat1MeanSeconds && int(o["cat1_p90_s"]) == s.cat1P90Seconds
                    && int(o["cat2_mean_s"]) == s.cat2MeanSeconds && int(o["cat2_p90_s"]) == s.cat2P90Seconds
                    && int(o["cat3_p90_s"]) == s.cat3P90Seconds && int(o["cat4_p90_s"]) == s.cat4P90Seconds
            }
            checked += 1
            if !same {
                mismatches += 1
                if mismatches <= 10 { Issue.record("\(String(decoding: line, as: UTF8.self)) -> \(m)") }
            }
        }
        #expect(checked > 15_000)
        #expect(mismatches == 0)
    }

    /// The generated identifiable-name table is the list, and agrees with the old comparison.
    @Test func identifiableNameCheckMatchesTheList() {
        func check(_ key: String) -> Bool {
            var k = key
            return k.withUTF8 { JSONLineScanner.identifiableKey($0, 0, $0.count) } != nil
        }
        func reference(_ key: String) -> Bool {
            var k = key
            return k.withUTF8 { RefScanner.identifiableKey($0, 0, $0.count) } != nil
        }
        for name in JSONLineScanner.identifiableFieldNames {
            #expect(check(name), "\(name)")
            #expect(check(name.uppercased()), "\(name)")
            let spaced = name.map { "\($0)" }.joined(separator: "_")
            #expect(check(spaced) == (spaced.utf8.count <= 24), "\(spaced)")
            #expect(!check(name + "x") || JSONLineScanner.identifiableFieldNames.contains(name + "x"), "\(name)x")
            #expect(!check(String(name.dropLast())) || JSONLineScanner.identifiableFieldNames.contains(String(name.dropLast())))
        }
        var rng = SplitMix(seed: 42)
        let alphabet = Array("aAbcdDeEfhHilmMnNoOprRstTuUy_- 0\u{e9}".unicodeScalars)
        var keys = Self.keys + JSONLineScanner.identifiableFieldNames
        for _ in 0..<20_000 {
            // Random near-miss keys: a name with a few characters changed, inserted or dropped.
            var k = Array(JSONLineScanner.identifiableFieldNames[rng.below(JSONLineScanner.identifiableFieldNames.count)].unicodeScalars)
            for _ in 0..<rng.below(3) {
                switch rng.below(3) {
                case 0 where !k.isEmpty: k[rng.below(k.count)] = alphabet[rng.below(alphabet.count)]
                case 1: k.insert(alphabet[rng.below(alphabet.count)], at: rng.below(k.count + 1))
                default: if !k.isEmpty { k.remove(at: rng.below(k.count)) }
                }
            }
            var s = String.UnicodeScalarView(); s.append(contentsOf: k)
            keys.append(String(s))
        }
        var differ = 0
        for key in keys where check(key) != reference(key) {
            differ += 1
            if differ <= 10 { Issue.record("'\(key)': fast \(check(key)), reference \(reference(key))") }
        }
        #expect(differ == 0)
    }

    /// The decoder skips the identifiable-name check only for contract field names, which
    /// must never be identifiable, and finds every one of them by its bytes.
    @Test func contractFieldNamesAreFoundAndNeverIdentifiable() {
        let owner = DecoderTables(units: testConfig().units)
        defer { withExtendedLifetime(owner) {} }
        let tables = owner.view
        for id in FieldID.allCases {
            var name = id.name
            #expect(name.withUTF8 { JSONLineScanner.identifiableKey($0, 0, $0.count) } == nil, "\(id.name)")
            #expect(name.withUTF8 { tables.fieldSlot($0.baseAddress!, $0.count, 0, $0.count) } == id.rawValue, "\(id.name)")
            for other in [id.name + "_", String(id.name.dropLast()), id.name.uppercased(), "x" + id.name] {
                var o = other
                let slot = o.withUTF8 { tables.fieldSlot($0.baseAddress!, $0.count, 0, $0.count) }
                #expect(slot == FieldID.allCases.first { $0.name == other }?.rawValue ?? -1, "\(other)")
            }
        }
        #expect(FieldID.count == FieldID.allCases.count && FieldID.count <= 64)
    }

    /// The names a decoder expects (the order of the lines before) are compared whole: a name
    /// the expected one begins, one it begins, an escaped spelling of it, an identifiable name
    /// in its place, and the lines in another order, each decoded as the reference decodes it.
    @Test func expectedNamesAreComparedWhole() {
        var fast = FeedDecoder(units: testConfig().units)
        var ref = RefFeedDecoder(units: testConfig().units)
        var issues = 0
        let learnt = #"{"feed":"ambulance","id":"a1","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident":"i1","category":2}"#
        let lines = [
            learnt,
            #"{"feed":"ambulance","id":"a2","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident_ref":"i1","category":2}"#,
            #"{"feed":"ambulance","id":"a3","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incid":"i1","category":2}"#,
            #"{"feed":"ambulance","id":"a4","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident":"i1","category":2}"#,
            #"{"feed":"ambulance","id":"a5","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","nhs_number":"i1","category":2}"#,
            #"{"feed":"ambulance","id":"a6","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident":"i1","category":2,"incident":"i2"}"#,
            #"{"category":2,"incident":"i1","kind":"arrived","site":"AAA","at":"2026-01-05T08:00:00Z","id":"a7","feed":"ambulance"}"#,
            #"{"feed":"ambulance","id":"a8","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident":"i1","category":2}"#,
            // Spaces around the colon, and the line cut short right after a name and its colon.
            #"{"feed":"ambulance","id":"a9","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident" :"i1","category": 2}"#,
            "{\"feed\":\"ambulance\",\"id\":\"b1\",\"at\":\"2026-01-05T08:00:00Z\",\"site\":\"AAA\",\"kind\":\"arrived\",\"incident\"  :  \"i1\",\"category\"\t:2}",
            #"{"feed":"ambulance","id":"b2","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident":"#,
            #"{"feed":"ambulance","id":"b3","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident""#,
            #"{"feed":"ambulance","id":"b4","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"arrived","incident";"i1","category":2}"#,
        ]
        for _ in 0..<2 {
            for line in lines {
                Self.agree(&fast, &ref, Array(learnt.utf8), &issues)   // learnt again before each
                Self.agree(&fast, &ref, Array(line.utf8), &issues)
            }
        }
        #expect(issues == 0)
        // And so: the identifiable name in place of the expected one is refused, the escaped
        // spelling is read as the name it spells, and the name expected is read.
        func reason(_ line: String) -> RejectionReason? {
            _ = fast.decode(learnt)
            guard case .failure(let r) = fast.decode(line) else { return nil }
            return r.reason
        }
        #expect(reason(lines[4]) == .identifiable)
        #expect(reason(lines[3]) == nil)
        #expect(reason(lines[7]) == nil)
    }

    /// The expected name's comparison word by word (`Name.matches`) says what building the
    /// whole name and comparing it says: names of every length to 32, at the start, the middle
    /// and the very end of a line, equal or differing in any one byte (each word of the name).
    @Test func expectedNameMatchesAsTheWholeName() {
        var rng = SplitMix(seed: 0x5EED_0F_A11)
        var checked = 0, differing = 0
        for len in 1...32 {
            for _ in 0..<40 {
                let n = len + rng.below(12)
                let bytes = (0..<n).map { _ in UInt8(32 + rng.below(95)) }
                let s = rng.below(n - len + 1)
                bytes.withUnsafeBufferPointer { p in
                    let b = p.baseAddress!
                    let name = DecoderTables.name(b, n, s, s + len)
                    #expect(name.matches(b, n, s), "length \(len) at \(s) of \(n)")
                    // The same name against the bytes with one of them changed.
                    var other = bytes
                    let k = s + rng.below(len)
                    other[k] = other[k] == 65 ? 66 : 65
                    other.withUnsafeBufferPointer { q in
                        let whole = DecoderTables.name(q.baseAddress!, n, s, s + len) == name
                        #expect(name.matches(q.baseAddress!, n, s) == whole, "length \(len), byte \(k - s) changed")
                        if !whole { differing += 1 }
                    }
                    checked += 1
                }
            }
        }
        #expect(checked == 32 * 40 && differing == checked)
    }

    /// A copy of a decoder is independent of the original (each has its own per-line slots).
    @Test func copiedDecodersDecodeIndependently() {
        var a = FeedDecoder(units: testConfig().units)
        var b = a
        var ref = RefFeedDecoder(units: testConfig().units)
        for (k, line) in Self.handLines.enumerated() {
            let other = Self.handLines[(k + 3) % Self.handLines.count]
            let ra = a.decode(line)
            let rb = b.decode(other)
            #expect(ra == ref.decode(line))
            #expect(rb == ref.decode(other))
            #expect(a.decode(line) == ra)
        }
    }

    /// Unit codes of any length (a word, several words, more than the 32 bytes compared as
    /// words), prefixes of one another and empty, are found exactly as before.
    @Test func unitCodesOfAnyLengthAreMatchedAsBefore() {
        let codes = ["A", "AB", "ABCDEFGH", "ABCDEFGHI", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123457", String(repeating: "Q", count: 70), "", "caf\u{e9}", "RWH"]
        let units = codes.map { UnitConfig(code: $0, name: $0, kind: .acute) }
        var fast = FeedDecoder(units: units)
        var ref = RefFeedDecoder(units: units)
        var issues = 0
        for code in codes + ["ABCDEFGHIJKLMNOPQRSTUVWXYZ012346", String(repeating: "Q", count: 69), "ABCDEFGHJ", "RW", "RWHX"] {
            let line = #"{"feed":"bed","id":"x","at":"2026-01-05T08:00:00Z","site":""# + code + #"","ga_core_open":1,"ga_core_occupied":1}"#
            Self.agree(&fast, &ref, Array(line.utf8), &issues)
            if codes.contains(code), case .success(let m) = fast.decode(line) { #expect(units[m.site].code == code) }
        }
        #expect(issues == 0)
    }

    /// The exact short path for decimals gives what `Double(String)` gives.
    @Test func fastDecimalsAreExact() {
        var rng = SplitMix(seed: 7)
        var differ = 0
        for _ in 0..<200_000 {
            let intDigits = 1 + rng.below(8), fracDigits = rng.below(9)
            var s = String(rng.below(9) + 1)
            for _ in 1..<intDigits { s += String(rng.below(10)) }
            if rng.below(4) == 0 { s = "0" }
            if fracDigits > 0 { s += "."; for _ in 0..<fracDigits { s += String(rng.below(10)) } }
            var t = s
            let fast = t.withUTF8 { p in FastDouble.parse(p.baseAddress!, 0, p.count) }
            if let fast, fast != Double(s) {
                differ += 1
                if differ <= 10 { Issue.record("\(s): fast \(fast), Double(String) \(Double(s)!)") }
            }
        }
        #expect(differ == 0)
    }

    /// The pointer RFC 3339 parser against the reference one, on valid and mangled times.
    @Test func timesAgreeWithTheReferenceParser() {
        var rng = SplitMix(seed: 3339)
        let base: [String] = ["2026-01-05T08:00:00Z", "2026-03-29T02:30:00+01:00", "2024-02-29T23:59:60.123456z",
                              "2026-01-05 08:00:00-00:30", "2026-10-25t01:30:00.5+00:00", "0000-01-01T00:00:00Z",
                              "9999-12-31T23:59:59.999-23:59", "2100-02-29T00:00:00Z", "2026-01-05T08:00:00.Z"]
        let junk = Array("0123456789-+:.TtZz x".utf8) + [0x2F, 0x3A, 0xFF]
        var differ = 0
        for _ in 0..<100_000 {
            var t = Array(base[rng.below(base.count)].utf8)
            for _ in 0..<rng.below(3) {
                switch rng.below(3) {
                case 0 where !t.isEmpty: t[rng.below(t.count)] = junk[rng.below(junk.count)]
                case 1: t.insert(junk[rng.below(junk.count)], at: rng.below(t.count + 1))
                default: if !t.isEmpty { t.remove(at: rng.below(t.count)) }
                }
            }
            let a = t.withUnsafeBufferPointer { RFC3339.parse($0, 0, $0.count) }
            let b = t.withUnsafeBufferPointer { RefRFC3339.parse($0, 0, $0.count) }
            if a != b {
                differ += 1
                if differ <= 10 { Issue.record("\(String(decoding: t, as: UTF8.self)): \(String(describing: a)) vs \(String(describing: b))") }
            }
        }
        #expect(differ == 0)
    }
}

/// SplitMix64: a small deterministic generator for the mutation tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A whole number too big for a count (`1e20`, or more digits than a 64-bit integer holds) is
/// out of range, with the limit: it was refused as "must be a whole number" (ops user test).
@Suite struct HugeCountTests {
    static func reject(_ line: String) -> Rejection? {
        var decoder = FeedDecoder(units: testConfig().units)
        if case .failure(let r) = decoder.decode(line) { return r }
        return nil
    }

    static func bed(_ literal: String) -> String {
        "{\"feed\":\"bed\",\"id\":\"b1\",\"at\":\"2026-01-05T08:00:00Z\",\"site\":\"AAA\",\"ga_core_open\":\(literal),\"ga_core_occupied\":1}"
    }

    @Test("a huge whole number in a count is out of range, naming the limit",
          arguments: ["1e20", "10000000000000000000", "2.0e7"])
    func outOfRange(_ literal: String) throws {
        let r = try #require(Self.reject(Self.bed(literal)))
        #expect(r.reason == .outOfRange && r.field == "ga_core_open", "\(r)")
        #expect(r.description.contains("\(literal) is implausibly large (at most 10000000)"), "\(r)")
    }

    @Test func aFractionIsStillNotWhole() throws {
        let r = try #require(Self.reject(Self.bed("12.5")))
        #expect(r.reason == .badType && r.description.contains("must be a whole number"), "\(r)")
    }
}
