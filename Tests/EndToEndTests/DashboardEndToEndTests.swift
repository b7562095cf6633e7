import Foundation
import Testing

/// The real `urgentflow` binary in a real terminal (tmux), driven as a person would: start a
/// scenario, read the screen, press keys, quit, and check the terminal is given back intact.
///
/// The binary is `<package root>/.build/debug/urgentflow` (the README's test command runs
/// `swift build` before `swift test`), or `$URGENTFLOW_BIN`. Every wait polls the screen with
/// a deadline; nothing asserts on timing.
@Suite(.serialized) struct DashboardEndToEndTests {
    @Test func pauseDetailAcknowledgeAndQuitRestoreTheTerminal() throws {
        let tmux = try Tmux.start(width: 120, height: 40, scenario: "handover-crisis", speed: 600)
        defer { tmux.kill() }

        // First frame: header, site grid, alert panel, key hints.
        var screen = try tmux.waitFor("the first frame", timeout: 30) {
            $0.contains("REPLAY") && $0.contains("Sites 7") && $0.contains("Alerts") && $0.contains("? help")
        }
        #expect(screen.contains("Hertfordshire and West Essex"))

        // Space: the view freezes with a PAUSED marker on the header line.
        tmux.keys("Space")
        screen = try tmux.waitFor("PAUSED in the header", timeout: 10) { Tmux.line($0, 0).contains("PAUSED") }
        let frozenClock = Tmux.line(screen, 0)

        // Enter: detail of the selected site (the first one, Lister, RWH).
        tmux.keys("Enter")
        // Wait for the whole frame (a capture can land while tmux is still drawing it).
        screen = try tmux.waitFor("the detail view of RWH", timeout: 10) {
            $0.contains("Lister Hospital, Stevenage (RWH)") && $0.contains("Metric") && $0.contains("History")
                && $0.contains("Alerts at Lister Hospital, Stevenage") && $0.contains("? help")
        }
        #expect(screen.contains("G&A occ"))
        #expect(screen.contains("Alerts at Lister Hospital, Stevenage"))
        #expect(Tmux.line(screen, 0) == frozenClock, "the paused picture moved")

        // Esc: back to the dashboard, still paused.
        tmux.keys("Escape")
        screen = try tmux.waitFor("the dashboard again", timeout: 10) {
            $0.contains("Sites 7") && !$0.contains("Metric") && $0.contains("? help") && Tmux.line($0, 0).contains("PAUSED")
        }
        #expect(Tmux.line(screen, 0).contains("PAUSED"))

        // `n` plays (even while paused) to the next alert transition, until an alert is firing
        // and not acknowledged.
        var raised = tmux.capture().contains("not acked)")
        var presses = 0
        while !raised && presses < 30 {
            tmux.keys("n")
            presses += 1
            raised = (try? tmux.waitFor("a raised alert", timeout: 3) { $0.contains("not acked)") }) != nil
        }
        #expect(raised, "no alert was raised by `n` in handover-crisis")

        // Tab to the alert panel, `a`, who, note: the alert shows who acknowledged it.
        tmux.keys("Tab")
        tmux.keys("a")
        screen = try tmux.waitFor("the acknowledge prompt", timeout: 10) { $0.contains("Acknowledge") && $0.contains("Who:") }
        tmux.literal("E2E Tester")
        tmux.keys("Enter")
        tmux.literal("seen in e2e")
        tmux.keys("Enter")
        screen = try tmux.waitFor("the acknowledgement in the alert panel", timeout: 10) {
            $0.contains("ack E2E Tester") && !$0.contains("Who:")
        }
        #expect(Tmux.line(screen, 0).contains("PAUSED"))

        // Enter on the alert: the site's detail, whose alert list has room for the note.
        tmux.keys("Enter")
        screen = try tmux.waitFor("the detail view with the acknowledged alert", timeout: 10) {
            $0.contains("Alerts at") && $0.contains("ack E2E Tester") && $0.contains("seen in e2e") && $0.contains("? help")
        }
        let ackLine = screen.split(separator: "\n").first { $0.contains("ack E2E Tester") }.map(String.init) ?? ""
        #expect(ackLine.contains("seen in e2e"), "note missing from the alert row: \(ackLine)")

        // q: the program quits, leaves the alternate screen and restores the terminal modes.
        tmux.keys("q")
        screen = try tmux.waitFor("the program to exit", timeout: 15) { $0.contains("EXIT=") && $0.contains("STTY-") }
        #expect(screen.contains("EXIT=0"))
        #expect(screen.contains("STTY-RESTORED"), "terminal modes differ after quitting:\n\(screen)")
        #expect(!screen.contains("Sites 7"), "the dashboard is still on the screen:\n\(screen)")
        #expect(tmux.paneFlag("alternate_on") == "0")
        #expect(tmux.paneFlag("cursor_flag") == "1", "cursor left hidden")
    }

    /// Resized while it plays, then `q`: nothing of the dashboard stays on the screen given back,
    /// nor in the pane's history. tmux 3.3a carried the alternate screen's last rows over when it
    /// was left at another size than it was entered at (the boxes' side borders above the shell
    /// after growing from 80x24 to 160x45): the backend now blanks it before leaving it.
    @Test(arguments: [((80, 24), (160, 45)), ((160, 45), (80, 24))])
    func resizeThenQuitLeavesNothingOnTheScreen(from: (Int, Int), to: (Int, Int)) throws {
        let tmux = try Tmux.start(width: from.0, height: from.1, scenario: "boxing-day-surge", speed: 300)
        defer { tmux.kill() }
        _ = try tmux.waitFor("the first frame", timeout: 30) { $0.contains("REPLAY") && $0.contains("? help") }
        tmux.tmux(["resize-window", "-t", "e2e", "-x", "\(to.0)", "-y", "\(to.1)"])
        // The whole frame at the new size: the sites box as wide as the window, the key hints.
        _ = try tmux.waitFor("a frame at \(to.0)x\(to.1)", timeout: 15) {
            let top = Tmux.line($0, 2)
            return top.hasPrefix("┌") && top.hasSuffix("┐") && top.count == to.0 && $0.contains("? help")
        }
        tmux.keys("q")
        let screen = try tmux.waitFor("the program to exit", timeout: 15) { $0.contains("EXIT=") && $0.contains("STTY-") }
        #expect(Tmux.line(screen, 0) == "EXIT=0", "the screen after quitting:\n\(screen)")
        #expect(!screen.contains { "│┌┐└┘─".contains($0) }, "the dashboard's borders are still on the screen:\n\(screen)")
        #expect(tmux.paneFlag("history_size") == "0", "the dashboard went into the pane's history")
        #expect(tmux.paneFlag("alternate_on") == "0")
    }

    @Test(arguments: [("TERM", 143), ("INT", 130), ("HUP", 129)])
    func signalsRestoreTheTerminal(signal: String, status: Int) throws {
        let tmux = try Tmux.start(width: 80, height: 24, scenario: "handover-crisis", speed: 600)
        defer { tmux.kill() }
        _ = try tmux.waitFor("the first frame", timeout: 30) { $0.contains("REPLAY") && $0.contains("Sites 7") }
        let pid = try #require(tmux.programPID(), "cannot find the urgentflow process in the pane")
        let kill = Tmux.run(["/bin/kill", "-\(signal)", pid])
        #expect(kill.status == 0)
        let screen = try tmux.waitFor("the program to exit on SIG\(signal)", timeout: 15) {
            $0.contains("EXIT=") && $0.contains("STTY-")
        }
        #expect(screen.contains("EXIT=\(status)"), "exit status after SIG\(signal):\n\(screen)")
        #expect(screen.contains("STTY-RESTORED"), "terminal modes differ after SIG\(signal):\n\(screen)")
        #expect(tmux.paneFlag("alternate_on") == "0")
        #expect(tmux.paneFlag("cursor_flag") == "1")
    }
}

/// A live service with the dashboard: every rejected line is in the log next to the journal with
/// where and why, those read before the screen took the terminal too (they were written to the
/// terminal, under the screen, and lost).
@Suite struct LiveDashboardEndToEndTests {
    @Test func rejectedLinesAreLoggedFromTheFirstLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uf-e2e-live-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let feed = dir.appendingPathComponent("feed.jsonl").path
        let journal = dir.appendingPathComponent("journal").path
        // Three bad lines, in the file before the service starts (read at once).
        try Data("""
            not json
            {"feed":"ambulance","id":"a-1","at":"2026-11-23T10:00:00Z","site":"RWH","kind":"arrived","incident":"i-1","category":2,"patient_name":"Jane Doe"}
            {"feed":"bed","id":"b-1","site":"RWH"}

            """.utf8).write(to: URL(fileURLWithPath: feed))
        let tmux = try Tmux.start(width: 100, height: 30, arguments: ["run", "--follow", feed, "--journal", journal])
        defer { tmux.kill() }
        try tmux.waitFor("the three rejections on the status line", timeout: 30) { $0.contains("rejected 3") }
        let log = try String(contentsOfFile: journal + "/urgentflow.log", encoding: .utf8)
        let rejected = log.split(separator: "\n").filter { $0.contains("rejected file:") }
        #expect(rejected.count == 3, "urgentflow.log:\n\(log)")
        #expect(rejected.contains { $0.contains("line 1: malformed") }, "\(rejected)")
        #expect(rejected.contains { $0.contains("line 2: feed ambulance: site RWH: identifiable: field patient_name") }, "\(rejected)")
        #expect(rejected.contains { $0.contains("line 3: feed bed: site RWH:") }, "\(rejected)")
        // Whether the lines above beat the screen to the terminal is a race; what is said between
        // the inputs starting and the screen taking the terminal is not: the service's own
        // start line is said there, and must be in the log too.
        #expect(log.contains("urgentflow: live: journal \(journal)"), "urgentflow.log:\n\(log)")
        tmux.keys("q")
        let screen = try tmux.waitFor("the program to exit", timeout: 15) { $0.contains("EXIT=") }
        #expect(screen.contains("EXIT=0"), "\(screen)")
        #expect(!screen.contains("rejected file:"), "written to the log, not to the terminal:\n\(screen)")
    }

    @Test func warningsWhileTheDashboardRanAreSaidAgainOnTheTerminal() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uf-e2e-warn-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let journal = dir.appendingPathComponent("journal").path
        // The rejected-line counts cannot be saved (their temporary file's name is taken by a
        // folder): a warning at each try, once a line is rejected.
        try FileManager.default.createDirectory(atPath: journal + "/rejections.json.tmp", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let feed = dir.appendingPathComponent("feed.jsonl").path
        try Data("not json\n".utf8).write(to: URL(fileURLWithPath: feed))
        let tmux = try Tmux.start(width: 100, height: 30, arguments: ["run", "--follow", feed, "--journal", journal])
        defer { tmux.kill() }
        try tmux.waitFor("the warning on the status line", timeout: 30) { $0.contains("rejected-line counts") }
        // Tried again every second, but warned about once (each try was a warning: a line a
        // second in the log); its recovery is said.
        let log = journal + "/urgentflow.log"
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        func warnings() -> Int { logText().components(separatedBy: "warning: rejected-line counts").count - 1 }
        func waitUntil(_ what: String, timeout: Double, _ done: () -> Bool) throws {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while !done() {
                guard Date() < deadline else { throw Tmux.Failure(description: "timed out waiting for \(what):\n\(logText())") }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        try waitUntil("the warning in the log", timeout: 10) { warnings() >= 1 }
        Thread.sleep(forTimeInterval: 3.5)   // three more tries (one a second), each a warning before
        #expect(warnings() == 1, "urgentflow.log:\n\(logText())")
        try FileManager.default.removeItem(atPath: journal + "/rejections.json.tmp")
        try waitUntil("the counts saved again", timeout: 30) { logText().contains("rejected-line counts saved again, after ") }
        #expect(FileManager.default.fileExists(atPath: journal + "/rejections.json"))
        #expect(warnings() == 1, "urgentflow.log:\n\(logText())")
        tmux.keys("q")
        let screen = try tmux.waitFor("the program to exit", timeout: 15) { $0.contains("EXIT=") }
        // Said on the terminal once the screen has given it back (before, it was said on the
        // alternate screen just before that was thrown away).
        #expect(screen.contains("while the dashboard ran"), "\(screen)")
        #expect(screen.contains("rejected-line counts: Is a directory"), "\(screen)")
    }
}

/// The Warned column on the bundled Boxing Day surge: at 05:00 on the 27th Watford's OPEL
/// alert escalates to the system director, whose budget of messages is spent, so the message
/// waits for his 05:15 digest. The row named him as warned meanwhile.
@Suite(.serialized) struct WarnedHeldForDigestEndToEndTests {
    /// The scenario's lines before `end` (a replay that stops there, its last screen kept).
    static func cut(before end: String) throws -> String {
        let all = try String(contentsOf: Tmux.packageRoot.appendingPathComponent("Scenarios/boxing-day-surge.jsonl"), encoding: .utf8)
        let kept = all.split(separator: "\n").prefix { line in
            guard let r = line.range(of: "\"at\":\"") else { return true }
            return line[r.upperBound...].prefix(16) < end.prefix(16)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("uf-held-\(getpid())-\(end.prefix(16).filter(\.isNumber)).jsonl").path
        try (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Watford's OPEL row on the last screen of a flat-out replay of `file`.
    static func watfordOpelRow(_ file: String) throws -> String {
        let tmux = try Tmux.start(width: 120, height: 60, arguments: ["replay", file, "--speed", "0"])
        defer { tmux.kill() }
        let screen = try tmux.waitFor("the end of the replay", timeout: 60) {
            Tmux.line($0, 0).contains("END") && $0.contains("Warned") && $0.contains("? help")
        }
        return screen.split(separator: "\n").first { $0.contains("Watford General") && $0.contains("OPEL 3") }.map(String.init) ?? screen
    }

    @Test func theDirectorIsShownHeldUntilTheDigestGoesThenNamed() throws {
        let before = try Self.cut(before: "2025-12-27T05:05")
        defer { unlink(before) }
        let held = try Self.watfordOpelRow(before)
        #expect(held.contains("held to 05:15"), "\(held)")
        #expect(!held.contains("Morgan Lee"), "\(held)")
        let after = try Self.cut(before: "2025-12-27T05:20")
        defer { unlink(after) }
        let told = try Self.watfordOpelRow(after)
        #expect(told.contains("Morgan Lee") && !told.contains("held"), "\(told)")
    }
}

/// One private tmux server (its own socket) running the binary in a shell that records the
/// terminal modes before and after.
final class Tmux {
    let socket: String
    let dir: URL

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func binary() throws -> String {
        let path = ProcessInfo.processInfo.environment["URGENTFLOW_BIN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? packageRoot.appendingPathComponent(".build/debug/urgentflow").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Failure(description: "the end-to-end test needs the real binary at \(path): run `swift build` before `swift test` (or set URGENTFLOW_BIN)")
        }
        return path
    }

    static func start(width: Int, height: Int, scenario: String, speed: Int) throws -> Tmux {
        try start(width: width, height: height, arguments: ["replay", scenario, "--speed", "\(speed)"])
    }

    /// `urgentflow` with `arguments`, in a shell that prints `EXIT=<status>` when it ends.
    static func start(width: Int, height: Int, arguments: [String]) throws -> Tmux {
        let bin = try binary()
        guard run(["/usr/bin/env", "tmux", "-V"]).status == 0 else {
            throw Failure(description: "the end-to-end test needs tmux on PATH (apt-get install tmux)")
        }
        let t = Tmux()
        let q = { (s: String) in "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let before = t.dir.appendingPathComponent("stty.before").path
        let after = t.dir.appendingPathComponent("stty.after").path
        let script = """
            stty -g > \(q(before)); \
            \(q(bin)) \(arguments.map(q).joined(separator: " ")); echo "EXIT=$?"; \
            stty -g > \(q(after)); \
            if cmp -s \(q(before)) \(q(after)); then echo STTY-RESTORED; else echo STTY-CHANGED; fi; \
            exec sleep 600
            """
        let r = run(["/usr/bin/env", "tmux", "-L", t.socket, "-f", "/dev/null", "new-session", "-d",
                     "-x", "\(width)", "-y", "\(height)", "-s", "e2e",
                     "/usr/bin/env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "/bin/sh", "-c", script])
        guard r.status == 0 else {
            t.kill()
            throw Failure(description: "tmux new-session failed (\(r.status)): \(r.output)")
        }
        _ = t.tmux(["set-option", "-t", "e2e", "remain-on-exit", "on"])
        return t
    }

    private init() {
        socket = "uf-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(socket)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func kill() {
        _ = tmux(["kill-server"])
        try? FileManager.default.removeItem(at: dir)
        let base = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        unlink("\(base)/tmux-\(getuid())/\(socket)")
    }

    @discardableResult
    func tmux(_ args: [String]) -> (status: Int32, output: String) {
        Tmux.run(["/usr/bin/env", "tmux", "-L", socket] + args)
    }

    func capture() -> String { tmux(["capture-pane", "-p", "-t", "e2e"]).output }

    func keys(_ names: String...) { tmux(["send-keys", "-t", "e2e"] + names) }
    func literal(_ text: String) { tmux(["send-keys", "-t", "e2e", "-l", text]) }

    func paneFlag(_ name: String) -> String {
        tmux(["display-message", "-p", "-t", "e2e", "#{\(name)}"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The urgentflow process: the child of the pane's shell.
    func programPID() -> String? {
        let shell = paneFlag("pane_pid")
        guard !shell.isEmpty else { return nil }
        let r = Tmux.run(["/usr/bin/env", "pgrep", "-P", shell])
        return r.output.split(separator: "\n").first.map(String.init)
    }

    /// Polls the screen until `done` holds or the deadline passes (then fails with the screen).
    @discardableResult
    func waitFor(_ what: String, timeout: Double, _ done: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = capture()
        while !done(screen) {
            if Date() > deadline {
                throw Failure(description: "timed out after \(timeout) s waiting for \(what); the screen:\n\(screen)")
            }
            usleep(50_000)
            screen = capture()
        }
        return screen
    }

    static func line(_ screen: String, _ n: Int) -> String {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        return n < lines.count ? String(lines[n]) : ""
    }

    /// Runs a command and returns its exit status and output. posix_spawn + waitpid (Foundation's
    /// Process can miss the exit of a child when run from a test's thread pool), and the output
    /// goes through a file, not a pipe: `tmux new-session` leaves a server running that would
    /// hold a pipe open forever.
    static func run(_ args: [String]) -> (status: Int32, output: String) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("uf-e2e-out-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
        defer { unlink(out) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        // A clean signal state: the test runner's threads block most signals, and a tmux server
        // inheriting that mask would never see its children exit nor `kill-server`.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &actions, &attr, argv, environ)
        guard rc == 0 else { return (-1, "posix_spawn \(args[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, output)
    }
}
