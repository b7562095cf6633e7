import Foundation
import Testing
@testable import FlowCore
@testable import FlowNotify

/// The notification log keeps an acknowledgement's note and a silence's reason as given: free
/// text the patient-data checks now refuse (accepted under an earlier release's) stayed there
/// after `redact` had withheld it from the journal, and a restart restored it from there.
@Suite struct NotificationLogRedactionTests {
    static let at = utc("2026-01-20T10:02:04.440Z")

    static func ackLine(by: String = "Priya Shah", note: String?) -> String {
        AlertLog.ackLine(rule: "handover_longest_wait", site: "RWH",
                         Acknowledgement(by: by, at: at, note: note, expires: utc("2026-01-20T14:02:04.440Z")))
    }

    static func silenceLine(by: String = "Morgan Lee", reason: String) -> String {
        AlertLog.silenceLine(Silence(id: "silence-cli-1", site: "RWH", from: at, until: utc("2026-01-20T12:00:00Z"), by: by, reason: reason))
    }

    @Test func anAcknowledgementsIdentifiableNoteIsWithheldAsTheLogWritesIt() {
        let outcome = NotificationLogRedaction.redact(Substring(Self.ackLine(note: "Mrs Khan's daughter rang")))
        guard case let .redacted(line, fields, why) = outcome else { Issue.record("\(outcome)"); return }
        #expect(fields == ["note"])
        #expect(why.hasPrefix("field note: contains what looks like a person's name"), "\(why)")
        // Byte for byte what the log writes for the acknowledgement a restart recovers from the
        // redacted journal: the same line, so nothing differs between them.
        #expect(line == Self.ackLine(note: OperatorAction.withheldText))
    }

    @Test func aSilencesReasonAndByAreCheckedAsAnOperatorLinesAre() {
        let outcome = NotificationLogRedaction.redact(Substring(Self.silenceLine(by: "07700 900123", reason: "Mr Jones's family in the ED")))
        guard case let .redacted(line, fields, _) = outcome else { Issue.record("\(outcome)"); return }
        #expect(fields == ["by", "reason"])
        #expect(line == Self.silenceLine(by: OperatorAction.withheldText, reason: OperatorAction.withheldText))
        // `by` names the member of staff who acted: a titled name there is theirs, kept.
        #expect(NotificationLogRedaction.redact(Substring(Self.silenceLine(by: "Dr Amara Obi", reason: "system call"))) == .clean)
    }

    @Test func everyOtherLineIsLeftAsItIs() {
        let lines = [
            Self.ackLine(note: "HALO in ED"),
            Self.ackLine(note: nil),
            Self.silenceLine(reason: "system call"),
            #"{"type":"transition","transition":{"rule":"handover_longest_wait","summary":"Mrs Khan"}}"#,   // not operator text
            #"{"type":"ack","rule":"x","site":"RWH","ack":{"by":"Priya Shah"}}"#,   // not an acknowledgement the log writes
            "not json",
        ]
        for line in lines { #expect(NotificationLogRedaction.redact(Substring(line)) == .clean, "\(line)") }
    }

    /// A restart reads the log for the acknowledgements to restore: one holding text the checks
    /// refuse is restored without it (as the journal's line is) and named by line.
    @Test func aRestartRestoresTheAcknowledgementWithoutItsTextAndNamesTheLine() throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        let lines = [Self.silenceLine(reason: "system call"), Self.ackLine(note: "Mrs Khan's daughter rang")]
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir.file(NotificationService.logName), atomically: true, encoding: .utf8)
        let svc = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [])
        defer { svc.close(timeout: 2) }
        #expect(svc.identifiableText.count == 1)
        #expect(svc.identifiableText.first?.hasPrefix("notification log \(dir.file(NotificationService.logName)):2: holds patient-identifiable data (field note:") == true,
                "\(svc.identifiableText)")
        svc.handle([transition("handover_longest_wait", "RWH", .warning, .firing, at: "2026-01-20T10:00:00Z")])
        svc.tick(now: utc("2026-01-20T10:03:00Z"))
        let ack = svc.activeAlerts().first { $0.rule == "handover_longest_wait" }?.acknowledgement
        #expect(ack?.by == "Priya Shah")
        #expect(ack?.note == OperatorAction.withheldText)
    }
}
