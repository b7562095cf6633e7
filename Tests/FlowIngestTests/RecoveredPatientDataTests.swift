import Foundation
import Testing
import FlowCore
@testable import FlowLive

/// A restart's journal holds a line accepted before a release with stricter patient-data checks
/// (a titled name in free text). The restart recovers its figures, counts it, and names the file
/// and line so that it can be removed from the journal; it was refused before, and a DToC start
/// or an ambulance arrival was missing from the rebuilt model until the next day's data.
@Suite struct RecoveredPatientDataTests {
    @Test("a restart recovers a journal line the checks now refuse, counts it and names its file and line")
    func restartRecoversAndNamesAnIdentifiableJournalLine() throws {
        let tmp = TempDir()
        let dir = tmp.file("journal")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lines = [
            #"{"feed":"ambulance","id":"a1","at":"2026-01-20T10:00:00Z","site":"RWH","kind":"arrived","incident":"inc-1"}"#,
            #"{"feed":"ambulance","id":"a2","at":"2026-01-20T10:05:00Z","site":"RWH","kind":"arrived","incident":"inc-2","crew_note":"Mrs Khan, daughter on 07700 900123"}"#,
            #"{"feed":"ambulance","id":"a3","at":"2026-01-20T10:06:00Z","site":"NOPE","kind":"arrived","incident":"inc-3"}"#,
        ]
        writeFile(dir + "/journal-2026-01-20.jsonl", lines.joined(separator: "\n") + "\n")
        let path = NotifierRestartTests.root.appendingPathComponent("Scenarios/herts-west-essex.yaml").path
        let config = try ConfigLoader.load(yaml: try String(contentsOfFile: path, encoding: .utf8), file: path)

        let engine = FlowEngine(config: config, mode: .live)
        let report = try Recovery.run(engine: engine, journalDirectory: dir)
        #expect(report.lines == 3 && report.accepted == 2 && report.identifiable == 1 && report.rejected == 1)
        #expect(report.summary.contains("2 messages") && report.summary.contains("1 rejected")
                && report.summary.contains("1 holding patient-identifiable data"), "\(report.summary)")
        let rwh = config.unitIndex("RWH")!
        #expect(engine.model.value(.ambulanceQueue, site: rwh) == 2, "both arrivals are in the rebuilt model")
        let said = Log.recentWarnings.map(\.text).first { $0.contains("journal-2026-01-20.jsonl:2:") }
        #expect(said?.contains("holds patient-identifiable data (field crew_note: contains what looks like a person's name") == true,
                "\(String(describing: said))")
        #expect(said?.contains("remove it from the journal (urgentflow redact, with the service stopped)") == true)
    }
}
