import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `urgentflow redact` on a journal holding lines accepted before stricter patient-data checks:
/// the text goes, each line stays where it was, a restart then recovers the same state without
/// the warning, and a running service's journal is refused.
@Suite struct RedactCLITests {
    static let lines = [
        #"{"feed":"ambulance","id":"a1","at":"2026-01-20T10:00:00Z","site":"RWH","kind":"arrived","incident":"inc-1"}"#,
        #"{"feed":"ambulance","id":"a2","at":"2026-01-20T10:05:00Z","site":"RWH","kind":"arrived","incident":"inc-2","crew_note":"Mrs Khan, daughter on 07700 900123"}"#,
        #"{"feed":"operator","id":"clock-1768903560000","at":"2026-01-20T10:06:00Z","kind":"clock"}"#,
        #"{"feed":"dtoc","id":"d1","at":"2026-01-20T10:07:00Z","site":"RWH","kind":"start","patient":"9434765919","reason":"C","org":"nhs","pathway":"P1","ready_since":"2026-01-20T07:00:00Z"}"#,
        #"{"feed":"operator","id":"silence-1","at":"2026-01-20T10:08:00Z","site":"RWH","kind":"silence","until":"2026-01-20T12:00:00Z","by":"Priya Shah","reason":"Mr Jones's family in the ED"}"#,
    ]

    @Test func redactRemovesTheTextKeepsTheLinesAndRefusesARunningJournal() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uf-redact-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/journal-2026-01-20.jsonl"
        try (Self.lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        // The notification log `run` keeps beside the journal: the silence as it was given.
        try FileManager.default.createDirectory(atPath: dir + "/notify", withIntermediateDirectories: true)
        let log = dir + "/notify/notifications.jsonl"
        let logLines = [
            #"{"type":"transition","transition":{"at":"2026-01-20T10:05:00Z","rule":"handover_queue","site":"RWH"}}"#,
            #"{"type":"silence","silence":{"by":"Priya Shah","from":"2026-01-20T10:08:00Z","id":"silence-1","reason":"Mr Jones's family in the ED","rule":null,"site":"RWH","until":"2026-01-20T12:00:00Z"}}"#,
        ]
        try (logLines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)

        let dry = try HeadlessReplayCLITests.urgentflow(["redact", "--journal", dir, "--dry-run"])
        #expect(dry.out.contains("\(file):2: would remove crew_note (field crew_note: contains what looks like a person's name"), "\(dry.out)")
        #expect(dry.out.contains("\(file):5: would remove reason"), "\(dry.out)")
        #expect(dry.out.contains("\(file):4: left as it is: field patient is part of what the line says"), "\(dry.out)")
        #expect(dry.out.contains("\(log):2: would remove reason (field reason: contains what looks like a person's name"), "\(dry.out)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == Self.lines.joined(separator: "\n") + "\n", "a dry run changes nothing")
        #expect(try String(contentsOfFile: log, encoding: .utf8) == logLines.joined(separator: "\n") + "\n", "a dry run changes nothing")

        // A service holding the journal: refused, nothing changed.
        // Close-on-exec: a urgentflow another test starts meanwhile (they run in parallel) would
        // inherit the descriptor, and the lock with it, past the `close` below.
        let fd = open(dir + "/journal.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let held = try HeadlessReplayCLITests.urgentflow(["redact", "--journal", dir])
        #expect(held.status != 0 && held.err.contains("is in use by another urgentflow process"), "\(held.err)")
        close(fd)

        let r = try HeadlessReplayCLITests.urgentflow(["redact", "--journal", dir])
        #expect(r.status == 1, "a line is left: \(r.out)")
        #expect(r.out.hasSuffix("\(dir): redacted 3 lines in 2 files; 1 left as it is (identifiable in a field the line needs: a restart still recovers and names it)\n"), "\(r.out)")
        let after = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(after.count == Self.lines.count + 1 && after.last == "", "each line stays a line")
        #expect(after[0] == Self.lines[0] && after[2] == Self.lines[2] && after[3] == Self.lines[3])
        #expect(after[1] == #"{"feed":"ambulance","id":"a2","at":"2026-01-20T10:05:00Z","site":"RWH","kind":"arrived","incident":"inc-2"}"#)
        #expect(after[4].contains(#""reason":"(withheld at a restart: it looked patient-identifiable)""#) && !after[4].contains("Jones"), "\(after[4])")
        let logAfter = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(logAfter == [logLines[0],
                             #"{"type":"silence","silence":{"by":"Priya Shah","from":"2026-01-20T10:08:00Z","id":"silence-1","reason":"(withheld at a restart: it looked patient-identifiable)","rule":null,"site":"RWH","until":"2026-01-20T12:00:00Z"}}"#,
                             ""], "\(logAfter)")

        // A restart: the same messages, only the line left still named.
        let recovered = try HeadlessReplayCLITests.urgentflow(["recover", "--journal", dir, "--alerts"])
        #expect(recovered.err.contains("recovered 5 journal lines (3 messages, 1 operator action, 1 clock mark, 1 holding patient-identifiable data)"), "\(recovered.err)")
        #expect(recovered.err.contains("journal-2026-01-20.jsonl:4: holds patient-identifiable data (field patient"), "\(recovered.err)")
        #expect(!recovered.err.contains(":2: holds") && !recovered.err.contains(":5: holds"), "\(recovered.err)")
    }
}
