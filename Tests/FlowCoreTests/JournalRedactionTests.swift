import Testing
@testable import FlowCore

/// `urgentflow redact`'s core: a journalled line the patient-data checks now refuse, rewritten so
/// that they accept it and a restart rebuilds the same model from it.
@Suite struct JournalRedactionTests {
    var decoder = FeedDecoder(units: testConfig().units)

    mutating func message(_ line: String) -> FeedMessage? {
        var s = line
        return s.withUTF8 { p in try? decoder.decodeJournalled(p) }
    }

    @Test("a feed line loses its free text and keeps its figures, byte for byte")
    mutating func feedLinesLoseTheirFreeText() {
        let base = bedLine("AAA", at(0), occupied: 90)
        for (extra, removed) in [(#","comment":"Mr Jones in bay 4""#, ["comment"]),
                                 (#","extra":{"who":[{"note":"DOB 12/03/1947"}]},"ward":"7B""#, ["extra", "ward"]),
                                 (#","patient_name":"x""#, ["patient_name"]),
                                 (#", "contact" : "daughter on 07700 900123" "#, ["contact"])] {
            let line = String(base.dropLast()) + extra + "}"
            guard case .redacted(let out, let fields, let why) = JournalRedaction.redact(line, decoder: &decoder) else {
                Issue.record("not redacted: \(line)"); continue
            }
            #expect(fields == removed, "\(line)")
            #expect(why.reason == .identifiable)
            #expect(out == base, "only the free text goes: \(out)")
            guard case .success = decoder.decode(out) else { Issue.record("the checks refuse \(out)"); continue }
            #expect(message(out) == message(line), "the same message: the model never read the text")
        }
    }

    @Test("an operator's note or reason is withheld and the action kept")
    mutating func operatorLinesKeepTheirAction() {
        let ack = OperatorAction(id: "ack-1", at: at(5), kind: .acknowledge(rule: "occ", site: "AAA", by: "Priya Shah", note: "Mr Jones in bay 4"))
        guard case .redacted(let out, let fields, _) = JournalRedaction.redact(ack.jsonLine, decoder: &decoder) else {
            Issue.record("ack not redacted"); return
        }
        #expect(fields == ["note"])
        var s = out
        let parsed = s.withUTF8 { OperatorAction.parse($0) }
        #expect(parsed == .success(OperatorAction(id: "ack-1", at: at(5), kind: .acknowledge(rule: "occ", site: "AAA", by: "Priya Shah",
                                                                                             note: OperatorAction.withheldText))), "\(out)")
        let silence = OperatorAction(id: "s-1", at: at(6), kind: .silence(site: "AAA", rule: nil, until: at(60), by: "Priya Shah",
                                                                          reason: "family on 07700 900123"))
        guard case .redacted(_, let sf, _) = JournalRedaction.redact(silence.jsonLine, decoder: &decoder) else { Issue.record("silence"); return }
        #expect(sf == ["reason"])
    }

    @Test("identifiable data in a field the line needs is left, and said; other lines are clean")
    mutating func whatCannotBeRedactedIsSaid() {
        let nhsKey = #"{"feed":"dtoc","id":"d1","at":"2026-01-05T08:00:00Z","site":"AAA","kind":"start","patient":"9434765919","reason":"C","org":"nhs","pathway":"P1","ready_since":"2026-01-05T07:00:00Z","comment":"Mr Jones"}"#
        guard case .cannot(let r) = JournalRedaction.redact(nhsKey, decoder: &decoder) else { Issue.record("redacted a patient key"); return }
        #expect(r.reason == .identifiable && r.field == "patient", "\(r)")
        let badSite = OperatorAction(id: "ack-2", at: at(7), kind: .acknowledge(rule: "occ", site: "SG1 4AB", by: "Priya Shah", note: nil)).jsonLine
        guard case .cannot = JournalRedaction.redact(badSite, decoder: &decoder) else { Issue.record("redacted a site"); return }
        for clean in [bedLine("AAA", at(0), occupied: 90, extra: #","comment":"ward 7 shut""#), "not json",
                      OperatorAction.mark(.clock, at: at(1)).jsonLine, bedLine("AAA", at(0), open: 10, occupied: 90),
                      OperatorAction(id: "ack-3", at: at(7), kind: .acknowledge(rule: "occ", site: "AAA", by: "Mrs Priya Shah", note: "ok")).jsonLine] {
            #expect(JournalRedaction.redact(clean, decoder: &decoder) == .clean, "\(clean)")
        }
    }
}
