import FlowCore
import FlowIngest
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// End-to-end tests of `urgentflow run` / `record` / `recover` through the REAL binary.
//
// The binary is not built here: run `swift build` before `swift test` (the README's test
// command is `swift build && swift test`). It is looked up at `<package>/.build/debug/urgentflow`
// (override with URGENTFLOW_BINARY, e.g. for another --scratch-path). Every wait is bounded;
// nothing asserts on a duration.

enum LiveHarness {
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var binary: String? {
        let path = ProcessInfo.processInfo.environment["URGENTFLOW_BINARY"]
            ?? packageRoot.appendingPathComponent(".build/debug/urgentflow").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// One acute site and a 111 unit; 1 s rule tick; an occupancy rule that fires and resolves
    /// at once (no delays), so transitions follow the lines within a tick.
    static let config = """
        system:
          name: Live test system
          timezone: Europe/London
          tick: 1s
        units:
          - code: RWH
            name: Lister Hospital
            kind: acute
            beds: 700
          - code: HUC
            name: Herts Urgent Care
            kind: nhs111
        leads:
          - id: rwh-oncall
            role: Site on-call manager
            name: Priya Shah
            contact: "+44 7700 900101"
            units: [RWH]
            severities: [warning, critical]
        rules:
          - id: ga_occupancy
            kind: threshold
            metric: ga_occupancy_pct
            units: [acute]
            direction: above
            warning: 92
            critical: 95
            clear: 90
            for: 0m
            clear_for: 0m
            source: "test"
        """

    /// A fresh directory with the live configuration for a test of the real binary, or nil (the
    /// test recorded as failed) when the binary has not been built.
    static func workDir(_ name: String) throws -> String? {
        guard binary != nil else {
            Issue.record("urgentflow binary not found: run `swift build` before `swift test`")
            return nil
        }
        let dir = NSTemporaryDirectory() + "urgentflow-live-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try config.write(toFile: dir + "/live.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    static func nowText() -> String { RFC3339.format(EventTime(Date())) }

    static func bedLine(id: String, occupied: Int) -> String {
        "{\"feed\":\"bed\",\"id\":\"\(id)\",\"at\":\"\(nowText())\",\"site\":\"RWH\",\"ga_core_open\":100,\"ga_core_occupied\":\(occupied)}"
    }

    static func lines(ofFile path: String) -> [String] {
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return s.split(separator: "\n").map(String.init)
    }

    /// Journal lines that are not clock or evaluation marks.
    static func journalData(_ dir: String) -> [String] {
        journalLines(dir).filter { !$0.contains("\"kind\":\"clock\"") && !$0.contains("\"kind\":\"evaluate\"") }
    }

    static func journalLines(_ dir: String) -> [String] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasPrefix("journal-") && $0.hasSuffix(".jsonl") }.sorted()
        return files.flatMap { lines(ofFile: dir + "/" + $0) }
    }

    /// Polls `cond` every 20 ms until it holds or `seconds` pass.
    @discardableResult
    static func waitUntil(_ seconds: Double, _ cond: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if cond() { return true }
            usleep(20_000)
        }
        return cond()
    }

    /// Runs the binary to completion (bounded); returns (status, stdout, stderr).
    static func runToEnd(_ args: [String], stdin: String? = nil, timeout: Double = 60) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary!)
        p.arguments = args
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inp.fileHandleForWriting.close()
        let outBox = DataBox(), errBox = DataBox()
        outBox.drain(out.fileHandleForReading)
        errBox.drain(err.fileHandleForReading)
        if !waitUntil(timeout, { !p.isRunning }) {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        p.waitUntilExit()
        outBox.waitClosed(5)
        errBox.waitClosed(5)
        return (p.terminationStatus, outBox.text, errBox.text)
    }
}

/// Collects a pipe's output on a background thread.
final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var closed = false
    func drain(_ h: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let d = h.availableData
                lock.lock()
                if d.isEmpty { closed = true; lock.unlock(); return }
                data.append(d)
                lock.unlock()
            }
        }
    }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
    func waitClosed(_ s: Double) { LiveHarness.waitUntil(s) { lock.lock(); defer { lock.unlock() }; return closed } }
}

/// `urgentflow run --no-ui` as a child process.
final class LiveServer {
    let process = Process()
    let stderr = DataBox()
    private(set) var port = 0

    init(dir: String, extra: [String] = [], listen: Bool = true) throws {
        process.executableURL = URL(fileURLWithPath: LiveHarness.binary!)
        var args = ["run", "--no-ui", "--config", dir + "/live.yaml", "--journal", dir + "/journal"]
        if listen { args += ["--listen", "tcp://127.0.0.1:0"] }
        process.arguments = args + extra
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        stderr.drain(err.fileHandleForReading)
        let ready = LiveHarness.waitUntil(30) { self.stderr.text.contains("urgentflow: live:") }
        guard ready else {
            kill(process.processIdentifier, SIGKILL)
            throw LiveTestError("server did not start: \(stderr.text)")
        }
        if listen {
            let text = stderr.text
            guard let r = text.range(of: "listening on tcp://127.0.0.1:") else { throw LiveTestError("no port: \(text)") }
            port = Int(text[r.upperBound...].prefix { $0.isNumber }) ?? 0
        }
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait (bounded); true if it exited by itself with status 0.
    @discardableResult
    func stop() -> Bool {
        kill(process.processIdentifier, SIGTERM)
        let exited = LiveHarness.waitUntil(30) { !self.process.isRunning }
        if !exited { kill9() }
        process.waitUntilExit()
        stderr.waitClosed(5)
        return exited && process.terminationReason == .exit && process.terminationStatus == 0
    }
}

struct LiveTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}


@Suite("Live run (real binary)", .serialized)
struct LiveRunTests {
    @Test("SIGKILL during TCP ingest: every acknowledged line recovered, alert log neither loses nor repeats a transition")
    func killDuringIngest() throws {
        guard let dir = try LiveHarness.workDir("kill") else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let alertLog = dir + "/journal/alerts.jsonl"

        var server = try LiveServer(dir: dir)
        var acked: [String: String] = [:]   // id -> line
        var sentUnacked: [String] = []
        do {
            let c = try TestClient(port: server.port)
            var n = 0
            var batchNo = 0
            // Batches of 50 lines; occupancy flips (97% / 80%) every 2.5 s of wall time, so each
            // state spans at least two 1 s rule ticks; until the alert log shows a few
            // transitions (bounded by a 60 s deadline, however loaded the machine is).
            let started = Date()
            while Date().timeIntervalSince(started) < 60 {
                let occ = Int(Date().timeIntervalSince(started) / 2.5) % 2 == 0 ? 97 : 80
                var ids: [String] = []
                var text = ""
                for _ in 0..<50 {
                    n += 1
                    let id = "k\(n)"
                    let line = LiveHarness.bedLine(id: id, occupied: occ)
                    ids.append(id)
                    acked[id] = nil
                    text += line + "\n"
                    sentUnacked.append(line)
                }
                c.send(text)
                for (k, id) in ids.enumerated() {
                    guard let ack = c.readLine() else { throw LiveTestError("no ack for \(id)") }
                    if ack.hasPrefix("ok ") { acked[id] = sentUnacked[sentUnacked.count - ids.count + k] }
                    else { Issue.record("line \(id) not accepted: \(ack)") }
                }
                sentUnacked.removeAll()
                batchNo += 1
                usleep(20_000)
                if LiveHarness.lines(ofFile: alertLog).count >= 3 && batchNo >= 30 { break }
            }
            // Mid-stream: lines written, acknowledgements not read, then kill -9.
            var text = ""
            for _ in 0..<500 {
                n += 1
                text += LiveHarness.bedLine(id: "k\(n)", occupied: 97) + "\n"
            }
            c.send(text)
            server.kill9()
        }
        #expect(acked.count >= 1500)
        let logBeforeRestart = LiveHarness.lines(ofFile: alertLog)
        #expect(logBeforeRestart.count >= 3)

        // Restart on the same journal: every acknowledged line is in the recovered state, so
        // sending it again is a duplicate.
        server = try LiveServer(dir: dir)
        do {
            let c = try TestClient(port: server.port)
            let ids = acked.keys.sorted { Int($0.dropFirst())! < Int($1.dropFirst())! }
            var text = ""
            for id in ids { text += acked[id]! + "\n" }
            c.send(text)
            var notDuplicate: [String] = []
            for id in ids {
                guard let ack = c.readLine() else { throw LiveTestError("no ack after restart for \(id)") }
                if !ack.contains("duplicate_id") { notDuplicate.append("\(id): \(ack)") }
            }
            #expect(notDuplicate.isEmpty, "acknowledged before the kill but not recovered: \(notDuplicate.prefix(5))")
        }
        #expect(server.stop())

        // The alert log: what it had before is still its beginning, and it is exactly the
        // transitions the journal implies (none lost, none twice).
        let log = LiveHarness.lines(ofFile: alertLog)
        #expect(Array(log.prefix(logBeforeRestart.count)) == logBeforeRestart)
        #expect(Set(log).count == log.count, "duplicated alert-log lines")
        let (status, out, err) = try LiveHarness.runToEnd(["recover", "--config", dir + "/live.yaml", "--journal", dir + "/journal", "--transitions"])
        #expect(status == 0, "\(err)")
        let recovered = out.split(separator: "\n").map(String.init)
        #expect(recovered == log)
    }

    @Test("A second service on the same journal is refused with who holds it; the first carries on")
    func secondServiceOnOneJournal() throws {
        guard let dir = try LiveHarness.workDir("lock") else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try LiveServer(dir: dir)
        let (status, _, err) = try LiveHarness.runToEnd(["record", "--config", dir + "/live.yaml", "--journal", dir + "/journal", "-"],
                                                        stdin: LiveHarness.bedLine(id: "x1", occupied: 50) + "\n")
        #expect(status != 0)
        #expect(err.contains("in use by another urgentflow process (pid \(server.process.processIdentifier))"), "\(err)")
        let c = try TestClient(port: server.port)
        c.send(LiveHarness.bedLine(id: "x2", occupied: 50) + "\n")
        #expect(c.readLine() == "ok 1")
        #expect(server.stop())
        #expect(LiveHarness.journalData(dir + "/journal").count == 1, "only the first service's line")
    }

    @Test("A port in use fails the start with its address and leaves no journal directory behind (run and record)")
    func portInUseLeavesNoJournal() throws {
        guard let dir = try LiveHarness.workDir("port") else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let other = IngestHub(consumer: RecordingConsumer(), journal: nil)
        defer { other.shutdown() }
        let port = try other.addTCPListener(.init(port: 0)).port
        for command in ["run", "record"] {
            let journal = dir + "/journal-" + command
            let args = [command] + (command == "run" ? ["--no-ui"] : [])
                + ["--config", dir + "/live.yaml", "--journal", journal, "--listen", "tcp://127.0.0.1:\(port)"]
            let (status, _, err) = try LiveHarness.runToEnd(args)
            #expect(status != 0)
            #expect(err.contains("cannot listen on tcp://127.0.0.1:\(port): Address already in use"), "\(err)")
            // The journal's lock made the directory (and `run` its alert log) before the bind.
            #expect(!FileManager.default.fileExists(atPath: journal), "\(command): \((try? FileManager.default.contentsOfDirectory(atPath: journal)) ?? [])")
        }
    }

    @Test("A wrong token is refused and the connection closed; the right one is accepted")
    func wrongToken() throws {
        guard let dir = try LiveHarness.workDir("token") else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try LiveServer(dir: dir, extra: ["--token", "s3cret", "--token", "other"])
        do {
            let bad = try TestClient(port: server.port)
            bad.send("AUTH nope\n" + LiveHarness.bedLine(id: "t1", occupied: 50) + "\n")
            #expect(bad.readLine() == "err auth bad_token")
            #expect(bad.readLine() == nil)
            let none = try TestClient(port: server.port)
            none.send(LiveHarness.bedLine(id: "t2", occupied: 50) + "\n")
            #expect(none.readLine() == "err auth auth_required")
            let good = try TestClient(port: server.port)
            good.send("AUTH s3cret\n")
            #expect(good.readLine() == "ok auth")
            good.send(LiveHarness.bedLine(id: "t3", occupied: 50) + "\n")
            #expect(good.readLine() == "ok 1")
        }
        #expect(server.stop())
        let data = LiveHarness.journalData(dir + "/journal")
        #expect(data.count == 1 && data.first?.contains("\"t3\"") == true)
    }

    @Test("stdin: accepted lines are journalled, rejected ones are not (run and record)")
    func stdinSource() throws {
        guard let dir = try LiveHarness.workDir("stdin") else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = [LiveHarness.bedLine(id: "s1", occupied: 50),
                     "{\"feed\":\"bed\",\"id\":\"s2\",\"at\":\"\(LiveHarness.nowText())\",\"site\":\"NOPE\",\"ga_core_open\":1,\"ga_core_occupied\":1}",
                     "not json",
                     LiveHarness.bedLine(id: "s3", occupied: 60), " \t", ""].joined(separator: "\n") + "\n"
        let (status, _, err) = try LiveHarness.runToEnd(["run", "--no-ui", "--once", "--config", dir + "/live.yaml",
                                                         "--journal", dir + "/journal", "-"], stdin: input)
        #expect(status == 0, "\(err)")
        // stdin has no one to answer: each rejected line is logged with where and why.
        #expect(err.contains("rejected stdin line 2: feed bed: unknown_site: field site"), "\(err)")
        #expect(err.contains("rejected stdin line 3: malformed: "), "\(err)")
        // The stop summary counts the lines as replay and check do, the empty ones apart.
        #expect(err.contains("lines 2 accepted, 2 rejected, 2 empty;"), "\(err)")
        let data = LiveHarness.journalData(dir + "/journal")
        #expect(data.count == 2)
        #expect(data.allSatisfy { $0.contains("\"s1\"") || $0.contains("\"s3\"") })
        // run evaluated the rules after the accepted lines, and journalled where it did.
        let marks = LiveHarness.journalLines(dir + "/journal").filter { $0.contains("\"kind\":\"evaluate\"") }
        #expect(!marks.isEmpty)

        // The rejected lines are counted across restarts (they are not in the journal).
        func rejectedSaved() -> Int {
            guard let data = FileManager.default.contents(atPath: dir + "/journal/rejections.json"),
                  let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let counts = o["counts"] as? [[String: Any]] else { return -1 }
            return counts.compactMap { $0["count"] as? Int }.reduce(0, +)
        }
        #expect(rejectedSaved() == 2)
        let (statusAgain, _, errAgain) = try LiveHarness.runToEnd(["run", "--no-ui", "--once", "--config", dir + "/live.yaml",
                                                                   "--journal", dir + "/journal", "-"], stdin: "still not json\n")
        #expect(statusAgain == 0, "\(errAgain)")
        #expect(rejectedSaved() == 3, "the earlier run's 2 and this run's 1")

        // record: same validation, no clock marks; a duplicate of a journalled line is refused.
        let input2 = LiveHarness.bedLine(id: "s1", occupied: 50) + "\n" + LiveHarness.bedLine(id: "s4", occupied: 70) + "\n   \n"
        let (status2, _, err2) = try LiveHarness.runToEnd(["record", "--config", dir + "/live.yaml",
                                                           "--journal", dir + "/journal", "-"], stdin: input2)
        #expect(status2 == 0, "\(err2)")
        #expect(err2.contains("rejected stdin line 1: feed bed: site RWH: duplicate_id: field id"), "\(err2)")
        #expect(err2.contains("(1 accepted, 1 rejected, 1 empty)"), "\(err2)")
        let data2 = LiveHarness.journalData(dir + "/journal")
        #expect(data2.count == 3)
        #expect(data2.last?.contains("\"s4\"") == true)
    }

    @Test("On-call staff away from the dashboard: urgentflow ack and silence reach the running service and survive kill -9")
    func operatorCommandsFromTheCommandLine() throws {
        guard let dir = try LiveHarness.workDir("cli") else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let alertLog = dir + "/journal/alerts.jsonl"
        let config = dir + "/live.yaml", journal = dir + "/journal"
        let server = try LiveServer(dir: dir)
        let to = "tcp://127.0.0.1:\(server.port)"
        do {
            let c = try TestClient(port: server.port)
            c.send(LiveHarness.bedLine(id: "c1", occupied: 97) + "\n")
            #expect(c.readLine() == "ok 1")
        }
        #expect(LiveHarness.waitUntil(20) { LiveHarness.lines(ofFile: alertLog).contains { $0.contains("\"firing\"") } })
        let ack = try LiveHarness.runToEnd(["ack", "ga_occupancy", "RWH", "--by", "Priya Shah", "--note", "ward 7 opening", "--to", to])
        #expect(ack.0 == 0, "\(ack.2)")
        #expect(ack.1.contains("acknowledged ga_occupancy at RWH by Priya Shah"))
        let wrong = try LiveHarness.runToEnd(["ack", "no_such_rule", "RWH", "--by", "Priya Shah", "--to", to])
        #expect(wrong.0 != 0)
        #expect(wrong.2.contains("no_active_alert"), "\(wrong.2)")
        let silence = try LiveHarness.runToEnd(["silence", "RWH", "--for", "2h", "--by", "Priya Shah", "--why", "diverting to Watford", "--to", to])
        #expect(silence.0 == 0, "\(silence.2)")
        #expect(silence.1.contains("silenced every alert at RWH until"))
        #expect(silence.1.contains(" GMT (") || silence.1.contains(" BST ("), "in UK local time, then the instant: \(silence.1)")
        let badSite = try LiveHarness.runToEnd(["silence", "ZZZ", "--for", "1h", "--by", "x", "--why", "y", "--to", to])
        #expect(badSite.0 != 0)
        server.kill9()
        let (status, out, err) = try LiveHarness.runToEnd(["recover", "--config", config, "--journal", journal, "--alerts"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("\"acknowledged_by\":\"Priya Shah\""))
        #expect(out.contains("\"ack_note\":\"ward 7 opening\""))
        #expect(out.contains("\"silenced_by\":\"Priya Shah\""))
        #expect(out.contains("\"silence_reason\":\"diverting to Watford\""))
    }

    @Test("An acknowledgement survives kill -9 and a restart")
    func ackSurvivesRestart() throws {
        guard let dir = try LiveHarness.workDir("ack") else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let alertLog = dir + "/journal/alerts.jsonl"
        let config = dir + "/live.yaml", journal = dir + "/journal"
        var server = try LiveServer(dir: dir)
        do {
            let c = try TestClient(port: server.port)
            c.send(LiveHarness.bedLine(id: "a1", occupied: 97) + "\n")
            #expect(c.readLine() == "ok 1")
            let firing = LiveHarness.waitUntil(20) { LiveHarness.lines(ofFile: alertLog).contains { $0.contains("\"firing\"") } }
            #expect(firing)
            let ack = "{\"feed\":\"operator\",\"id\":\"ack-1\",\"at\":\"\(LiveHarness.nowText())\",\"site\":\"RWH\",\"kind\":\"ack\",\"rule\":\"ga_occupancy\",\"by\":\"Priya Shah\",\"note\":\"escalated to the director\"}"
            c.send(ack + "\n")
            #expect(c.readLine() == "ok 2")
            let unknown = "{\"feed\":\"operator\",\"id\":\"ack-2\",\"at\":\"\(LiveHarness.nowText())\",\"site\":\"RWH\",\"kind\":\"ack\",\"rule\":\"no_such_rule\",\"by\":\"Priya Shah\"}"
            c.send(unknown + "\n")
            #expect(c.readLine()?.hasPrefix("err 3 no_active_alert") == true)
        }
        server.kill9()

        func alerts() throws -> String {
            let (status, out, err) = try LiveHarness.runToEnd(["recover", "--config", config, "--journal", journal, "--alerts"])
            #expect(status == 0, "\(err)")
            return out
        }
        let afterKill = try alerts()
        #expect(afterKill.contains("\"acknowledged_by\":\"Priya Shah\""))
        #expect(afterKill.contains("\"ack_note\":\"escalated to the director\""))

        server = try LiveServer(dir: dir)
        #expect(server.stop())
        let afterRestart = try alerts()
        #expect(afterRestart.contains("\"acknowledged_by\":\"Priya Shah\""))
        let log = LiveHarness.lines(ofFile: alertLog)
        #expect(Set(log).count == log.count)
    }
}

@Suite("Operator actions (core)")
struct OperatorActionTests {
    @Test("ack, clock and evaluate lines round-trip; feed data is not an operator line")
    func parse() throws {
        let t = EventTime(millis: 1_767_600_000_123)
        let ack = OperatorAction(id: "ack-1", at: t, kind: .acknowledge(rule: "ga_occupancy", site: "RWH", by: "Priya Shah", note: "on \"it\""))
        guard case .success(let back)? = OperatorAction.parse(ack.jsonLine) else { Issue.record("no parse"); return }
        #expect(back == ack)
        let clock = OperatorAction(id: "clock-1", at: t, kind: .clock)
        guard case .success(let back2)? = OperatorAction.parse(clock.jsonLine) else { Issue.record("no parse"); return }
        #expect(back2 == clock)
        let evaluate = OperatorAction(id: "evaluate-1", at: t, kind: .evaluate)
        guard case .success(let back3)? = OperatorAction.parse(evaluate.jsonLine) else { Issue.record("no parse"); return }
        #expect(back3 == evaluate)
        #expect(evaluate.jsonLine.contains("\"kind\":\"evaluate\""))
        #expect(OperatorAction.parse("{\"feed\":\"bed\",\"id\":\"x\"}") == nil)
        guard case .failure(let r)? = OperatorAction.parse("{\"feed\":\"operator\",\"id\":\"x\",\"at\":\"2026-01-05T08:00:00Z\",\"kind\":\"ack\",\"site\":\"RWH\"}") else {
            Issue.record("accepted an ack without a rule"); return
        }
        #expect(r.reason == .missingField)
    }
}
