import Foundation
import Testing

/// `urgentflow recover` beside a running service: it only reads. It set a last line without its
/// newline aside as a restart does, and beside a live feed that cut the line the service was
/// writing out of the journal after the service had answered `ok` for it (the operators' user
/// test lost 6 and 7 lines).
@Suite struct RecoverCLITests {
    @Test func recoverLeavesALineStillBeingWrittenWhereItIs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uf-recover-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/journal-2026-01-20.jsonl"
        let text = #"{"feed":"ambulance","id":"a1","at":"2026-01-20T10:00:00Z","site":"RWH","kind":"arrived","incident":"inc-1"}"# + "\n"
            + #"{"feed":"ambulance","id":"a2","at":"2026-01-20T10:05:00Z","site":"RWH","kind":"arr"#   // being written
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try HeadlessReplayCLITests.urgentflow(["recover", "--journal", dir])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("last line without its newline (") && r.err.contains("skipped: still being written"), "\(r.err)")
        #expect(r.err.contains("recovered 1 journal line (1 message, 0 operator actions)"), "\(r.err)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == text, "the journal is as it was")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["journal-2026-01-20.jsonl"], "nothing set aside")
    }
}

/// A folder given as `run`'s input: read once it ended at once (exit 0, "inputs done"), followed
/// it was waited on for ever without a word (the operators' user test).
@Suite struct RunInputCLITests {
    @Test func aFolderAsAnInputIsRefusedAtTheStart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uf-input-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir + "/feeds", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for follow in [[], ["--follow"]] {
            let r = try HeadlessReplayCLITests.urgentflow(["run", "--no-ui", "--once", "--journal", dir + "/j", dir + "/feeds"] + follow)
            #expect(r.status == 64, "\(follow): \(r.err)")
            #expect(r.err.contains("cannot read the input \(dir)/feeds: Is a directory"), "\(r.err)")
        }
    }
    /// `--retention-days` deleted the days past it only when the journal was opened, after the
    /// recovery had rebuilt the state from them: the next `recover` gave another (21 transitions
    /// logged against 0; the operators' user test).
    @Test func theDaysPastRetentionAreNotRecoveredFrom() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uf-retention-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir + "/j", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = Date().addingTimeInterval(-10 * 86_400)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_GB"); f.timeZone = TimeZone(identifier: "Europe/London"); f.dateFormat = "yyyy-MM-dd"
        let day = f.string(from: old)
        let at = ISO8601DateFormatter().string(from: old)
        try (#"{"feed":"ambulance","id":"a1","at":""# + at + #"","site":"RWH","kind":"arrived","incident":"inc-1"}"# + "\n")
            .write(toFile: dir + "/j/journal-\(day).jsonl", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/empty.jsonl", atomically: true, encoding: .utf8)
        let r = try HeadlessReplayCLITests.urgentflow(["run", "--no-ui", "--once", "--retention-days", "3", "--journal", dir + "/j", dir + "/empty.jsonl"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("recovered 0 journal lines (0 messages"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/j/journal-\(day).jsonl"))
    }
}

