import Testing
@testable import FlowCore

/// Patient-identifiable data beyond NHS numbers (docs/feed-contract.md, "Rejections"): field
/// names that name a date of birth or a person's name, and in free text a date of birth, a
/// titled name, a full postcode or a telephone number. What feeds legitimately carry still
/// passes: pseudonymous keys, site codes, names of places, dates in notes, aggregate counts of
/// births, ward codes, times.
@Suite struct PatientDataTests {
    var decoder = FeedDecoder(units: testConfig().units)

    mutating func decode(_ extra: String) -> Result<FeedMessage, Rejection> {
        decoder.decode(bedLine("AAA", at(0), occupied: 50, extra: extra))
    }

    @Test("a field named for a date of birth or a person's name is refused, naming the field")
    mutating func identifyingFieldNamesAreRefused() {
        for key in ["patient_dob", "ptDOB", "BirthDate", "birth_date", "year_of_birth", "place-of-birth", "birth",
                    "patientFirstName", "pt_name", "patient name", "given_name", "FamilyName", "next_of_kin_name",
                    "forenames", "Surnames", "patient_surname", "middleNames"] {
            guard case .failure(let r) = decode(",\"\(key)\":\"x\"") else { Issue.record("accepted \(key)"); continue }
            #expect(r.reason == .identifiable && r.field == key, "\(key): \(r)")
            #expect(r.detail.hasPrefix("field name '\(key)' is patient-identifiable"), "\(r.detail)")
        }
        // At any depth, as the listed names are.
        guard case .failure(let nested) = decode(#","extra":{"a":[{"patient_dob":"x"}]}"#) else { Issue.record("accepted nested"); return }
        #expect(nested.reason == .identifiable && nested.field == "extra.a[0].patient_dob", "\(nested)")
    }

    @Test("names of places, counts of births and words that only look alike pass")
    mutating func harmlessFieldNamesPass() {
        for key in ["site_name", "ward_name", "hospital_name", "unit_name", "name_of_ward", "trust_name", "username",
                    "births_today", "birthing_unit", "births", "rebirth_count", "filename", "pathway_name", "notes"] {
            guard case .success = decode(",\"\(key)\":\"Lister ward 7\"") else { Issue.record("refused \(key)"); continue }
        }
    }

    @Test("free text with a date of birth is refused, naming the field and why")
    mutating func dateOfBirthInFreeTextIsRefused() {
        for text in ["DOB 12/03/1947", "pt dob: 1/3/47 in bay 4", "D.O.B. 12.03.1947", "born 1947-03-12", "Date of birth 01-02-1950",
                     "date_of_birth=3/4/1939", "birthdate 12/3/47", "dob\\u002012/3/47"] {
            guard case .failure(let r) = decode(",\"comment\":\"\(text)\"") else { Issue.record("accepted \(text)"); continue }
            #expect(r.reason == .identifiable && r.field == "comment", "\(text): \(r)")
            #expect(r.detail.hasPrefix("contains what looks like a date of birth"), "\(text): \(r.detail)")
        }
        // Nested free text too, named by its path.
        guard case .failure(let nested) = decode(#","extra":{"who":["x", {"note":"DOB 12/03/1947"}]}"#) else {
            Issue.record("accepted nested"); return
        }
        #expect(nested.reason == .identifiable && nested.field == "extra.who[1].note", "\(nested)")
        #expect(nested.description.contains("contains what looks like a date of birth"), "\(nested)")
    }

    @Test("dates and cues apart, and the pseudonymous keys, pass")
    mutating func datesWithoutACuePass() {
        for text in ["ward 7 shut 2026-01-13", "reopened 13/01/2026 after D&V", "born in the ED, mother and baby well",
                     "dob unknown", "doberman in the car park 12/01/2026", "stillborn 2026-01-13 reported", "Bob 12/3/47",
                     "2026-01-13T08:00:00Z", "pk-4f1c9a", "inc-9434765918"] {
            guard case .success = decode(",\"comment\":\"\(text)\"") else { Issue.record("refused \(text)"); continue }
        }
        let dtoc = #"{"feed":"dtoc","id":"d1","at":"2026-01-05T09:12:00Z","site":"BBB","kind":"start","patient":"pk-4f1c9a","reason":"DII","org":"social","pathway":"P3"}"#
        guard case .success = decoder.decode(dtoc) else { Issue.record("refused a DToC start"); return }
    }

    static func dtocStart(patient: String) -> String {
        #"{"feed":"dtoc","id":"d1","at":"2026-01-05T09:12:00Z","site":"BBB","kind":"start","patient":"\#(patient)","reason":"DII","org":"social","pathway":"P3"}"#
    }
    static func arrival(incident: String) -> String {
        #"{"feed":"ambulance","id":"a1","at":"2026-01-05T09:12:00Z","site":"AAA","kind":"arrived","incident":"\#(incident)"}"#
    }

    /// A source system's export leaks a patient's details into the key most readily: the keys
    /// were checked for an NHS number only, and `"patient":"Mrs Smith"` was kept in the journal
    /// (the analysts' user test, 2026-11-25).
    @Test("a patient or incident key holding a titled name, a postcode, a date of birth or, whole, a telephone number is refused, naming the key")
    mutating func identifiableKeysAreRefused() {
        let cases: [(String, String)] = [
            ("Mrs Smith", "a person's name"), ("Mr John Smith DOB 01/02/1950 SG1 4AB", "a date of birth"),
            ("SG1 4AB", "a full postcode"), ("pk SG1 4AB", "a full postcode"), ("07700 900123", "a telephone number"),
            ("07700900123", "a telephone number"), ("+44 7700 900123", "a telephone number"), ("DOB 12/03/1947", "a date of birth"),
            (#"Mrs\u0020Smith"#, "a person's name"),
        ]
        for (key, what) in cases {
            for line in [Self.dtocStart(patient: key), Self.arrival(incident: key)] {
                guard case .failure(let r) = decoder.decode(line) else { Issue.record("accepted \(key)"); continue }
                #expect(r.reason == .identifiable && (r.field == "patient" || r.field == "incident"), "\(key): \(r)")
                #expect(r.detail.contains("contains what looks like \(what)"), "\(key): \(r.detail)")
            }
        }
    }

    /// A name with no title cannot be looked for in free text (mostly capitalised words), but a
    /// pseudonymous key never is one: `"patient":"John Smith"` was kept in the journal (trainer's
    /// user test, 2026-11-25).
    @Test("a key that is two to four capitalised words is refused as a name; keys with codes, digits or one word pass")
    mutating func nameShapedKeysAreRefused() {
        for key in ["John Smith", "Mary-Jane O'Brien", "Anne Marie McDonald", "Jo Smith Jones Brown"] {
            for line in [Self.dtocStart(patient: key), Self.arrival(incident: key)] {
                guard case .failure(let r) = decoder.decode(line) else { Issue.record("accepted \(key)"); continue }
                #expect(r.reason == .identifiable && (r.field == "patient" || r.field == "incident"), "\(key): \(r)")
                #expect(r.detail.hasPrefix("looks like a person's name"), "\(key): \(r.detail)")
            }
        }
        for key in ["EEAST 7781201", "RWH ED", "pk Smith", "Bay 4 Bed 2", "Smith", "John  Smith", "A B", "One Two Three Four Five",
                    "John smith", "JOHN SMITH", "John-", "inc 77 Smith"] {
            guard case .success = decoder.decode(Self.arrival(incident: key)) else { Issue.record("refused \(key)"); continue }
        }
    }

    /// A message's id leaked a name or a telephone number into the journal as a key could (the
    /// ops engineer's user test, 2026-11-25): it is checked as the keys are, where it has a space
    /// or a first `0` or `+`; system ids with separators pass unsearched.
    @Test("a message id holding a titled name, a telephone number, a postcode or a name is refused, naming the id")
    mutating func identifiableIdsAreRefused() {
        for id in ["Mr Smith bed", "07700900123", "+44 7700 900123", "SG1 4AB-1", "John Smith"] {
            let line = #"{"feed":"bed","id":"\#(id)","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":5}"#
            guard case .failure(let r) = decoder.decode(line) else { Issue.record("accepted \(id)"); continue }
            #expect(r.reason == .identifiable && r.field == "id", "\(id): \(r)")
        }
        for id in ["EEAST-7781201-a", "RWH-bed-2026-01-05T08:00", "b 12", "0-1"] {
            let line = #"{"feed":"bed","id":"\#(id)","at":"2026-01-05T08:00:00Z","site":"AAA","ga_core_open":10,"ga_core_occupied":5}"#
            guard case .success = decoder.decode(line) else { Issue.record("refused \(id)"); continue }
        }
    }

    /// The decoder looks for identifiable keys only where `keyMayIdentify` says they can be: it
    /// must say so of every key `keyWhy` refuses (random keys built of the pieces those searches
    /// look for, and of the separators and digits around them).
    @Test("the keys' quick pass never lets through a key the checks refuse")
    func theKeysQuickPassIsConservative() {
        let pieces = ["Mrs", "Mr", "Ms", "Smith", "John", "O'Brien", "J.", "DOB", "dob", "d.o.b", "born", "birth", "date", "of", "12/03/1947", "1947-03-12",
                      "12.3.47", "3-4-39", "SG1", "4AB", "07700", "900123", "0", "+44", "7700", "pk", "inc", "a9", "-", "_", ".", "/",
                      " ", "  ", "x", "7725594", "ffa6bd87", ":"]
        var rng = SystemRandomNumberGenerator()
        var refused = 0
        for _ in 0..<200_000 {
            var key = ""
            for _ in 0..<Int.random(in: 1...6, using: &rng) { key += pieces.randomElement(using: &rng)! }
            guard (5...64).contains(key.utf8.count), JSONLineScanner.keyWhy(key) != nil else { continue }
            refused += 1
            // As in a line: the key after its name (the last word is read ending at the key's end).
            var k = #"{"incident":""# + key
            let may = k.withUTF8 { PatientText.keyMayIdentify($0.baseAddress!, 13, $0.count) }
            #expect(may, "let through: '\(key)' (\(JSONLineScanner.keyWhy(key)!))")
            if !may { break }
        }
        #expect(refused > 1_000, "the keys built reach the checks: \(refused)")
    }

    /// Pseudonymous keys pass: hashes (a run of 11 digits from `0` inside one is not a telephone
    /// number, as it is in free text: a hexadecimal hash has one about once in a hundred),
    /// incident numbers, keys with spaces that name nobody.
    @Test("pseudonymous keys pass, a hash with 11 digits from 0 inside it too")
    mutating func pseudonymousKeysPass() {
        for key in ["pk-4f1c9a", "inc-7781201", "a07712345678b3c9e1f0", "9f2e07700900123ab", "EEAST 7781201", "0123", "RWH-dtoc-88121",
                    "Mx-0042", "born-2026-a7"] {
            for line in [Self.dtocStart(patient: key), Self.arrival(incident: key)] {
                guard case .success = decoder.decode(line) else { Issue.record("refused \(key): \(decoder.decode(line))"); continue }
            }
        }
    }

    @Test("an operator note with a date of birth is refused, a staff name in `by` is not")
    func operatorNotes() {
        let engine = IdentifiableFreeTextTests.firingEngine()
        let bad = OperatorAction(id: nextID(), at: at(6), kind: .acknowledge(rule: "occ", site: "AAA", by: "Priya Shah",
                                                                            note: "bed for pt DOB 12/03/1947")).jsonLine
        guard case .rejected(let r) = engine.ingest(bad) else { Issue.record("applied a note with a date of birth"); return }
        #expect(r.reason == .identifiable && r.field == "note")
        #expect(r.detail.contains("contains what looks like a date of birth"), "\(r)")
        let good = OperatorAction(id: nextID(), at: at(6), kind: .acknowledge(rule: "occ", site: "AAA", by: "Priya Shah",
                                                                             note: "escalation call 08:30, ward 7 shut 2026-01-13")).jsonLine
        guard case .operatorAction(_, let applied) = engine.ingest(good) else { Issue.record("not an operator action"); return }
        #expect(applied)
    }

    @Test("free text naming a person by title is refused, naming the field and why")
    mutating func titledNameInFreeTextIsRefused() {
        for text in ["Mrs Smith moved to ward 7", "pt Mr O'Brien in bay 4", "MR SMITH", "Ms. Patel", "Miss J Jones", "Mr J. Smith 3rd bed",
                     "Mx Taylor", "seen: Mrs  Khan", "(Mr Ahmed)", "MRS Jones waiting"] {
            guard case .failure(let r) = decode(",\"comment\":\"\(text)\"") else { Issue.record("accepted \(text)"); continue }
            #expect(r.reason == .identifiable && r.field == "comment", "\(text): \(r)")
            #expect(r.detail.hasPrefix("contains what looks like a person's name"), "\(text): \(r.detail)")
        }
        // Nested free text too; and escaped (`\u0020` for the space) as written plainly.
        guard case .failure(let nested) = decode(#","extra":[{"note":"Mrs\u0020Smith"}]"#) else { Issue.record("accepted nested"); return }
        #expect(nested.reason == .identifiable && nested.field == "extra[0].note", "\(nested)")
    }

    @Test("words that only begin like a title, titles without a name, and clinicians pass")
    mutating func wordsLikeTitlesPass() {
        for text in ["MRSA outbreak bay 2", "Mr", "see Mrs", "Ms 4 pathway", "MS Teams call 08:30", "MX 3", "Dr Patel on call", "mrs smith",
                     "Miss 4h target", "Mrs. 1", "Mr J", "Mrs J 4", "Mister Softee van in the car park", "HMRS Lister", "Mrsmith",
                     "Master Patient Index down"] {
            guard case .success = decode(",\"comment\":\"\(text)\"") else { Issue.record("refused \(text)"); continue }
        }
    }

    @Test("an operator note naming a patient by title is refused; the titled staff name in `by` is not")
    func operatorNoteWithTitledName() {
        let engine = IdentifiableFreeTextTests.firingEngine()
        let bad = IdentifiableFreeTextTests.ack(note: "Mrs Smith to ward 7")
        guard case .rejected(let r) = engine.ingest(bad) else { Issue.record("applied a note with a name"); return }
        #expect(r.reason == .identifiable && r.field == "note")
        let silence = OperatorAction(id: nextID(), at: at(6), kind: .silence(site: "AAA", rule: "occ", until: at(60), by: "Priya Shah",
                                                                            reason: "waiting on Mr Jones")).jsonLine
        guard case .rejected(let s) = engine.ingest(silence) else { Issue.record("applied a reason with a name"); return }
        #expect(s.reason == .identifiable && s.field == "reason")
        // `by` is spared only the titled-name check: a telephone number there is refused.
        guard case .rejected(let p) = engine.ingest(IdentifiableFreeTextTests.ack(note: "called", by: "Priya 07700 900123")) else {
            Issue.record("applied a name with a telephone number"); return
        }
        #expect(p.reason == .identifiable && p.field == "by")
        let good = IdentifiableFreeTextTests.ack(note: "site manager called", by: "Mrs Priya Shah")
        guard case .operatorAction(_, let applied) = engine.ingest(good) else { Issue.record("not an operator action"); return }
        #expect(applied)
    }

    @Test("free text with a full postcode or a telephone number is refused, naming the field and why")
    mutating func postcodesAndTelephoneNumbersAreRefused() {
        for (text, why) in [("from SG1 4AB", "postcode"), ("EC1A 1BB", "postcode"), ("pt at CM20 1QX (care home)", "postcode"),
                            ("M1 1AE", "postcode"), ("W1A 0AX.", "postcode"),
                            ("daughter on 07700 900123", "telephone"), ("call 020 7946 0018", "telephone"), ("01632-960-001", "telephone"),
                            ("tel:07700900123", "telephone"), ("+44 7700 900123", "telephone"), ("ring +447700900123 re bed", "telephone")] {
            guard case .failure(let r) = decode(",\"comment\":\"\(text)\"") else { Issue.record("accepted \(text)"); continue }
            #expect(r.reason == .identifiable && r.field == "comment", "\(text): \(r)")
            #expect(r.detail.hasPrefix("contains what looks like a " + (why == "postcode" ? "full postcode" : "telephone number")), "\(text): \(r.detail)")
        }
    }

    @Test("districts, ward and bay codes, lower case, times, dates and short numbers pass")
    mutating func lookAlikesOfPostcodesAndNumbersPass() {
        for text in ["SG1 district", "Ward 7B", "bay A1 2CK", "sg1 4ab", "SG14AB", "call 111", "0800 handover", "01/02/2026 08:00",
                     "2026-01-13T08:00:00Z", "0300 311", "12 07700 9001", "0.5 beds", "+44 0770 090012", "ward 0 1 2 3 4 5 6 7 8 9"] {
            guard case .success = decode(",\"comment\":\"\(text)\"") else { Issue.record("refused \(text)"); continue }
        }
    }

    @Test("a titled name is found in the shortest free text (Mr Ng)")
    mutating func shortTitledNameIsFound() {
        guard case .failure(let r) = decode(#","comment":"Mr Ng""#) else { Issue.record("accepted Mr Ng"); return }
        #expect(r.reason == .identifiable && r.detail.hasPrefix("contains what looks like a person's name"))
    }
}

/// A restart reads back lines the service accepted when it wrote them. A later release's
/// stricter patient-data checks (titled names, postcodes and telephone numbers came in one)
/// refused such a line at the next restart, and its figures were missing from the rebuilt
/// model. `FlowEngine.recover` recovers it and names it; everything else refuses it still.
@Suite struct JournalledPatientDataTests {
    /// A bed line carrying identifiable free text: in a field outside the contract, and nested.
    static let lines = [
        bedLine("AAA", at(0), occupied: 90, extra: #","comment":"Mr Jones in bay 4""#),
        bedLine("AAA", at(0), occupied: 90, extra: #","extra":{"who":[{"note":"DOB 12/03/1947"}]}"#),
        bedLine("AAA", at(0), occupied: 90, extra: #","patient_name":"x""#),
        bedLine("AAA", at(0), occupied: 90, extra: #","contact":"daughter on 07700 900123""#),
    ]

    @Test("the journal's own decoding takes a line whose key the checks now refuse, keeping the message")
    func journalledDecodingTakesAnIdentifiableKey() {
        var decoder = FeedDecoder(units: testConfig().units)
        var line = PatientDataTests.arrival(incident: "Mrs Smith")
        guard case .failure(let r) = decoder.decode(line) else { Issue.record("accepted"); return }
        #expect(r.reason == .identifiable && r.field == "incident")
        let m = line.withUTF8 { p in Result { () throws(Rejection) in try decoder.decodeJournalled(p) } }
        guard case .success(let message) = m, case .ambulance(.arrived(let incident, _)) = message.payload else { Issue.record("journalled: \(m)"); return }
        #expect(incident == Fingerprint.of("Mrs Smith"))
    }

    @Test("the journal's own decoding takes a line the patient-data checks refuse, and only those checks are off")
    func journalledDecodingSkipsOnlyThePatientDataChecks() {
        var decoder = FeedDecoder(units: testConfig().units)
        for line in Self.lines {
            guard case .failure(let r) = decoder.decode(line) else { Issue.record("accepted \(line)"); continue }
            #expect(r.reason == .identifiable)
            var s = line
            let m = s.withUTF8 { p in Result { () throws(Rejection) in try decoder.decodeJournalled(p) } }
            guard case .success(let message) = m, case .bed(let bed) = message.payload else { Issue.record("journalled: \(m)"); continue }
            #expect(bed.coreOccupied == 90 && bed.coreOpen == 100)
        }
        // Every other check stands: a count out of range, a bad time, malformed JSON.
        for bad in [bedLine("AAA", at(0), open: 10, occupied: 90, extra: #","comment":"Mr Jones""#),
                    #"{"feed":"bed","id":"x1","at":"yesterday","site":"AAA","ga_core_open":10,"ga_core_occupied":9,"comment":"Mr Jones"}"#,
                    #"{"feed":"bed","id":"x2","comment":"Mr Jones""#] {
            var s = bad
            let m = s.withUTF8 { p in Result { () throws(Rejection) in try decoder.decodeJournalled(p) } }
            guard case .failure(let r) = m else { Issue.record("journalled took \(bad)"); continue }
            #expect(r.reason != .identifiable, "\(r)")
        }
    }

    @Test("a restart recovers a journalled line the checks now refuse, names it, and keeps its figures; live ingest still refuses it")
    func recoveryKeepsTheFiguresOfAnIdentifiableJournalLine() {
        for line in Self.lines {
            let live = FlowEngine(config: testConfig(), mode: .live)
            guard case .rejected(let r) = live.ingest(line, receivedAt: at(1)) else { Issue.record("live accepted \(line)"); continue }
            #expect(r.reason == .identifiable && live.rejectedTotal == 1)

            let restarted = FlowEngine(config: testConfig(), mode: .live)
            var s = line
            let outcome = s.withUTF8 { restarted.recover($0) }
            #expect(outcome == .accepted, "\(line)")
            #expect(restarted.recoveredIdentifiable?.reason == .identifiable)
            #expect(restarted.recoveredIdentifiable?.feed == .bed && restarted.recoveredIdentifiable?.site == "AAA",
                    "named with its feed and site: \(String(describing: restarted.recoveredIdentifiable))")
            #expect(restarted.rejectedTotal == 0 && restarted.acceptedTotal == 1)
            #expect(restarted.model.value(.gaOccupancyPct, site: 0) == 90)
            // The next line, a clean one, is not named.
            var clean = bedLine("AAA", at(5), occupied: 91)
            #expect(clean.withUTF8 { restarted.recover($0) } == .accepted)
            #expect(restarted.recoveredIdentifiable == nil)
        }
        // A journalled line refused for something else as well stays refused, counted once.
        let restarted = FlowEngine(config: testConfig(), mode: .live)
        var both = bedLine("AAA", at(0), open: 10, occupied: 90, extra: #","comment":"Mr Jones""#)
        guard case .rejected = both.withUTF8({ restarted.recover($0) }) else { Issue.record("recovered a bad line"); return }
        #expect(restarted.rejectedTotal == 1 && restarted.acceptedTotal == 0 && restarted.recoveredIdentifiable == nil)
    }
}

/// The same for an operator's line of the journal: an acknowledgement or a silence given before
/// a release whose checks now refuse its note or reason. Refused, the acknowledgement was gone
/// from the dashboard after the restart (the notifications, restored from their own log, still
/// held it). Recovered, with the text withheld: it is shown with the alert on the dashboard.
@Suite struct JournalledOperatorPatientDataTests {
    static func recovered(_ lines: [String]) -> (FlowEngine, [FlowEngine.Outcome], [Rejection?]) {
        let engine = FlowEngine(config: testConfig(rules: [occupancyRule(for: .zero)]), mode: .live)
        var outcomes: [FlowEngine.Outcome] = [], said: [Rejection?] = []
        for line in lines {
            var s = line
            outcomes.append(s.withUTF8 { engine.recover($0) })
            said.append(engine.recoveredIdentifiable)
        }
        return (engine, outcomes, said)
    }

    @Test("an acknowledgement and a silence are recovered with their note and reason withheld; another field refused still refuses")
    func operatorLinesKeepTheirActionWithoutTheText() {
        let ack = OperatorAction(id: "ack-1", at: at(5), kind: .acknowledge(rule: "occ", site: "AAA", by: "Priya Shah", note: "Mr Jones in bay 4")).jsonLine
        let silence = OperatorAction(id: "silence-1", at: at(6), kind: .silence(site: "AAA", rule: nil, until: at(120), by: "Priya Shah",
                                                                                reason: "family on 07700 900123")).jsonLine
        let badSite = OperatorAction(id: "ack-2", at: at(7), kind: .acknowledge(rule: "occ", site: "SG1 4AB", by: "Priya Shah", note: nil)).jsonLine
        // Live, each is refused.
        let live = FlowEngine(config: testConfig(rules: [occupancyRule(for: .zero)]), mode: .live)
        for line in [ack, silence, badSite] {
            guard case .rejected(let r) = live.ingest(line, receivedAt: at(8)) else { Issue.record("live took \(line)"); continue }
            #expect(r.reason == .identifiable)
        }

        let (engine, outcomes, said) = Self.recovered([bedLine("AAA", at(0), occupied: 96), bedLine("AAA", at(2), occupied: 96), ack, silence, badSite])
        #expect(outcomes[2] == .operatorAction(OperatorAction(id: "ack-1", at: at(5), kind: .acknowledge(rule: "occ", site: "AAA", by: "Priya Shah",
                                                                                                          note: OperatorAction.withheldText)), applied: true))
        #expect(said[2]?.reason == .identifiable && said[2]?.field == "note" && said[2]?.site == "AAA", "\(String(describing: said[2]))")
        let alert = engine.activeAlert(rule: "occ", site: "AAA")
        #expect(alert?.acknowledgedBy == "Priya Shah" && alert?.ackNote == OperatorAction.withheldText)

        guard case .operatorAction(let s, true) = outcomes[3], case .silence(_, _, _, _, let reason) = s.kind else {
            Issue.record("silence: \(outcomes[3])"); return
        }
        #expect(reason == OperatorAction.withheldText && said[3]?.field == "reason")
        #expect(engine.activeSilences(at: at(10)).map(\.reason) == [OperatorAction.withheldText])

        guard case .rejected(let r) = outcomes[4] else { Issue.record("recovered a site that is a postcode"); return }
        #expect(r.reason == .identifiable && said[4] == nil)

        // A `by` with a telephone number in it: withheld too, as `redact` withholds it.
        let byPhone = OperatorAction(id: "ack-4", at: at(9), kind: .acknowledge(rule: "occ", site: "AAA", by: "Priya 07700 900123", note: nil)).jsonLine
        var line = byPhone
        guard case .operatorAction(let a, true) = line.withUTF8({ engine.recover($0) }), case .acknowledge(_, _, let by, _) = a.kind else {
            Issue.record("by not recovered"); return
        }
        #expect(by == OperatorAction.withheldText && engine.recoveredIdentifiable?.field == "by")
    }
}
