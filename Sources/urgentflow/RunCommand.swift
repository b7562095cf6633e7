import ArgumentParser
import FlowCore
import FlowNotify
import FlowIngest
import FlowTerminal
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// `urgentflow run`: live feeds into the engine, the journal, the alert log and the dashboard.
// Design and recovery rules: docs/ingest.md ("Live mode").

/// The wall clock as an event time (milliseconds since the epoch, UTC).
enum WallClock {
    static func now() -> EventTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return EventTime(millis: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

// MARK: - Options shared by run and record

struct IngestOptions: ParsableArguments {
    @Argument(help: "Inputs: '-' for stdin, file paths, or tcp://HOST:PORT listeners.")
    var inputs: [String] = []

    @Flag(help: "Follow the input files as they grow, through rotation and truncation (like tail -F).")
    var follow = false

    @Option(help: "Listen for producers on this TCP address (tcp://127.0.0.1:5514; repeatable).")
    var listen: [String] = []

    @Option(help: "Shared token a producer must send as 'AUTH <token>' first (repeatable; none: no authentication).")
    var token: [String] = []

    @Option(name: .customLong("max-line"), help: "Longest accepted line in bytes.")
    var maxLine: Int = 64 * 1024

    @Option(help: "Journal directory (every accepted line, one file per local day).")
    var journal: String = "./urgentflow-journal"

    @Option(name: .customLong("retention-days"), help: "Keep this many days of journal (default: keep everything).")
    var retentionDays: Int?

    @Flag(name: .customLong("no-fsync"), help: .hidden)
    var noFsync = false

    func validate() throws {
        if maxLine < 64 { throw ValidationError("--max-line must be at least 64") }
        if let r = retentionDays, r < 1 { throw ValidationError("--retention-days must be 1 or more") }
        for spec in listen where TCPListenerConfiguration(spec: spec) == nil {
            throw ValidationError("--listen \(spec): expected tcp://HOST:PORT")
        }
        if inputs.filter({ $0 == "-" }).count > 1 { throw ValidationError("stdin ('-') can be given once") }
    }

    var listeners: [TCPListenerConfiguration] {
        (listen + inputs.filter { TCPListenerConfiguration(spec: $0) != nil }).compactMap { spec in
            guard var c = TCPListenerConfiguration(spec: spec) else { return nil }
            c.tokens = Set(token)
            c.maxLineLength = maxLine
            return c
        }
    }

    var otherInputs: [String] { inputs.filter { TCPListenerConfiguration(spec: $0) == nil } }

    /// True when every input ends (no listener, no followed file).
    var allFinite: Bool { listeners.isEmpty && (!follow || otherInputs.allSatisfy { $0 == "-" }) }

    func openJournal(calendar: LocalCalendar) throws -> Journal {
        let cal = calendar
        do {
            return try Journal(configuration: .init(directory: journal, retentionDays: retentionDays,
                                                    syncPolicy: noFsync ? .none : .everyCommit,
                                                    day: { cal.localDate(of: WallClock.now()).description }),
                               warn: { Log.warn($0) })
        } catch {
            throw CLIError("cannot open the journal in \(journal): \(error)")
        }
    }

    /// Adds every source to the hub; prints where the listeners are.
    func addSources(to hub: IngestHub) throws {
        for l in listeners {
            let info = try hub.addTCPListener(l)
            Log.info("listening on tcp://\(info.host):\(info.port)" + (l.tokens.isEmpty ? "" : " (token required)"))
        }
        for input in otherInputs { try hub.addInput(input, follow: follow) }
    }
}

enum Log {
    static func info(_ s: String) { FileOutput.stderr("urgentflow: " + s + "\n") }
    static func warn(_ s: String) { FileOutput.stderr("urgentflow: warning: " + s + "\n") }
}

// MARK: - Recovery

struct RecoveryReport {
    var lines = 0, accepted = 0, operatorActions = 0, rejected = 0
    var transitions: [AlertTransition] = []
    var milliseconds = 0.0
    var setAside = 0

    var summary: String {
        "recovered \(lines) journal lines (\(accepted) messages, \(operatorActions) operator actions"
            + (rejected > 0 ? ", \(rejected) rejected" : "") + ") in \(Int(milliseconds)) ms, \(transitions.count) alert transitions"
    }
}

enum Recovery {
    /// Replays the journal into a fresh live engine (`FlowEngine.recover`), setting aside any
    /// half-written last line. Returns every transition the journal implies, in order.
    static func run(engine: FlowEngine, journalDirectory: String) throws -> RecoveryReport {
        var r = RecoveryReport()
        let start = WallClock.monotonicNanos()
        do { try FileManager.default.createDirectory(atPath: journalDirectory, withIntermediateDirectories: true) } catch {
            throw CLIError("cannot create the journal directory \(journalDirectory): \(error)")
        }
        var firstRejections = 0
        let report = try Journal.readAll(from: journalDirectory, repair: true, warn: { Log.warn($0) }) { line, origin in
            r.lines += 1
            switch line.withUnsafeBufferPointer({ engine.recover($0) }) {
            case .accepted: r.accepted += 1
            case .operatorAction: r.operatorActions += 1
            case .rejected(let why):
                r.rejected += 1
                if firstRejections < 10 {
                    firstRejections += 1
                    Log.warn("journal \(origin): not recovered: \(why)")
                }
            }
            if engine.hasPendingTransitions { r.transitions += engine.drainTransitions() }
        }
        r.setAside = report.setAside.count
        r.milliseconds = Double(WallClock.monotonicNanos() - start) / 1e6
        return r
    }
}

// MARK: - The alert log

/// Append-only JSON Lines of alert transitions (`AlertTransition.jsonLine`, the headless replay's
/// format). Never fsynced: everything in it can be derived again from the journal, and on start
/// it is reconciled with the transitions recovery derived (see `reconcile`).
final class AlertLog: @unchecked Sendable {
    let path: String
    private var fd: Int32
    private(set) var written = 0

    init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError("cannot open the alert log \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { close(fd) } }

    func append(_ transitions: [AlertTransition]) {
        guard !transitions.isEmpty else { return }
        var text = ""
        for t in transitions { text += t.jsonLine; text += "\n" }
        var off = 0
        let bytes = Array(text.utf8)
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                Log.warn("alert log \(path): write failed: \(String(cString: strerror(errno)))")
                return
            }
            off += n
        }
        written += transitions.count
    }

    /// The complete lines at the end of the file (at most `maxBytes` read). A half-written last
    /// line (a crash during a write) is cut off the file first.
    func tailLines(maxBytes: Int) -> [String] {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return [] }
        let size = Int(st.st_size)
        guard size > 0 else { return [] }
        let start = max(0, size - maxBytes)
        var buf = [UInt8](repeating: 0, count: size - start)
        let got = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard got == buf.count else { return [] }
        if buf.last != 0x0A {
            let keep = (buf.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
            Log.warn("alert log \(path): half-written last line (\(buf.count - keep) bytes) removed; it is written again from the journal")
            _ = ftruncate(fd, off_t(start + keep))
            buf.removeSubrange(keep...)
        }
        var lines = buf.split(separator: 0x0A, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        if start > 0, !lines.isEmpty { lines.removeFirst() }   // may be cut
        return lines
    }

    /// Appends the recovered transitions the log does not have yet. Every line of the log was
    /// written after the journal held what caused it, so the log ends with a prefix of
    /// `recovered` (all of it after a clean stop, less after a crash): find the longest such
    /// prefix and append the rest. If there is no overlap (the journal was cut by retention),
    /// only transitions later than the log's last line are appended.
    @discardableResult
    func reconcile(with recovered: [AlertTransition]) -> (alreadyLogged: Int, appended: Int) {
        let r = recovered.map(\.jsonLine)
        let a = tailLines(maxBytes: max(1 << 20, r.count * 600))
        var m = 0
        if let last = a.last, !r.isEmpty {
            var j = min(r.count, a.count) - 1
            while j >= 0 {
                if r[j] == last, a[(a.count - j - 1)...].elementsEqual(r[0...j]) { m = j + 1; break }
                j -= 1
            }
            if m == 0, let lastAt = Self.at(of: last) {
                m = recovered.firstIndex { $0.at > lastAt } ?? recovered.count
                if m > 0 { Log.warn("alert log \(path): no overlap with the journal's transitions; appending those after \(RFC3339.format(lastAt))") }
            }
        }
        append(Array(recovered[m...]))
        return (m, recovered.count - m)
    }

    static func at(of line: String) -> EventTime? {
        guard line.hasPrefix("{\"at\":\"") else { return nil }
        let rest = line.dropFirst(7)
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return RFC3339.parse(String(rest[..<end]))
    }
}

// MARK: - The engine behind the hub

/// Where the consumer thread publishes dashboard snapshots for the UI thread.
final class SnapshotSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var snap: DashboardSnapshot
    private var v = 0
    init(_ s: DashboardSnapshot) { snap = s }
    func publish(_ s: DashboardSnapshot) { lock.lock(); snap = s; v += 1; lock.unlock() }
    func read() -> (DashboardSnapshot, Int) { lock.lock(); defer { lock.unlock() }; return (snap, v) }
}

/// Results of operator acknowledgements submitted by the dashboard, handed back once durable.
final class AckResults: @unchecked Sendable {
    private let cond = NSCondition()
    private var results: [String: String] = [:]

    func resolve(_ id: String, _ message: String) {
        cond.lock(); results[id] = message; cond.broadcast(); cond.unlock()
    }

    /// Waits at most `timeout` seconds for the result of `id`.
    func wait(_ id: String, timeout: Double) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        cond.lock()
        defer { cond.unlock() }
        while results[id] == nil {
            if !cond.wait(until: deadline) { break }
        }
        return results.removeValue(forKey: id)
    }
}

/// The single-owner engine adapted to the hub: every method runs on the hub's consumer thread.
///
/// - Lines: `engine.ingest(line, receivedAt: wall clock)`; accepted messages and applied
///   operator actions are `.accepted` (journalled), everything else `.rejected(reason:)`.
/// - The clock (`run` only): whenever the wall clock passes a rule tick boundary (checked every
///   `tick()` and after every batch), `engine.advance(to: now)` runs the due ticks and a clock
///   mark is appended to the journal and committed BEFORE the resulting transitions are written
///   to the alert log. So the journal says exactly where, among the lines, every tick ran, and
///   recovery replays the same transitions (docs/ingest.md).
final class EngineConsumer: LineConsumer, @unchecked Sendable {
    let engine: FlowEngine
    private let tickMillis: Int64
    /// nil: no clock (record validates only).
    private let clockJournal: Journal?
    private let runsClock: Bool
    let alertLog: AlertLog?
    let slot: SnapshotSlot?
    /// Delivers notifications to the named leads (nil when the system file has none).
    var notifier: NotificationService?
    let acks = AckResults()
    private var lastMarkFloor: Int64?
    private var dirty = true
    private var lastPublish: UInt64 = 0
    private var resolvedThisRound: [(String, String)] = []
    var publishInterval: UInt64 = 250_000_000

    init(engine: FlowEngine, runsClock: Bool, journal: Journal?, alertLog: AlertLog?, slot: SnapshotSlot?) {
        self.engine = engine
        self.tickMillis = max(1000, engine.config.tick.millis)
        self.runsClock = runsClock
        self.clockJournal = journal
        self.alertLog = alertLog
        self.slot = slot
    }

    func consume(_ line: ArraySlice<UInt8>, origin: LineOrigin) -> LineVerdict {
        let outcome = line.withUnsafeBufferPointer { engine.ingest($0, receivedAt: WallClock.now()) }
        switch outcome {
        case .accepted:
            dirty = true
            return .accepted
        case .rejected(let r):
            return .rejected(reason: r.description)
        case let .operatorAction(action, applied):
            dirty = true
            let verdict: LineVerdict
            switch (action.kind, applied) {
            case (_, true): verdict = .accepted
            case (.clock, false): verdict = .rejected(reason: "refused: the live clock is the wall clock; clock marks are written by urgentflow")
            case let (.acknowledge(rule, site, _, _), false):
                verdict = .rejected(reason: "no_active_alert: no active alert \(rule) at \(site)")
            case let (.silence(site, rule, _, _, _), false):
                verdict = .rejected(reason: "unknown_alert: no unit \(site)\(rule.map { " or no rule " + $0 } ?? "") to silence")
            }
            if applied {
                switch action.kind {
                case let .acknowledge(rule, site, by, note):
                    _ = notifier?.acknowledge(rule: rule, site: site, by: by, note: note, at: action.at)
                case let .silence(site, rule, until, by, reason):
                    notifier?.silence(Silence(id: action.id, site: site, rule: rule, from: action.at, until: until, by: by, reason: reason))
                case .clock:
                    break
                }
            }
            if origin.source == LiveDriver.operatorSource {
                if case let .acknowledge(rule, site, _, _) = action.kind {
                    resolvedThisRound.append((action.id, applied ? "acknowledged \(rule) at \(site)" : "no active alert \(rule) at \(site)"))
                }
            }
            return verdict
        }
    }

    func batchDidEnd() {
        advanceIfDue()
        if !resolvedThisRound.isEmpty {
            // The hub committed the journal before calling us: these acknowledgements are durable.
            publish(force: true)
            for (id, msg) in resolvedThisRound { acks.resolve(id, msg) }
            resolvedThisRound.removeAll()
        }
        publish(force: false)
    }

    func tick() {
        advanceIfDue()
        publish(force: false)
    }

    /// Runs the rule ticks due by the wall clock (see the type's documentation).
    func advanceIfDue() {
        guard runsClock else { return }
        let now = WallClock.now()
        let floor = now.millis - ((now.millis % tickMillis) + tickMillis) % tickMillis
        if let last = lastMarkFloor, floor <= last { return }
        lastMarkFloor = floor
        engine.advance(to: now)
        if let j = clockJournal {
            j.append(Array(OperatorAction(id: "clock-\(now.millis)", at: now, kind: .clock).jsonLine.utf8))
            do { try j.commit() } catch { Log.warn("journal commit of a clock mark failed: \(error)") }
        }
        if engine.hasPendingTransitions {
            let t = engine.drainTransitions()
            alertLog?.append(t)
            notifier?.handle(t)
        }
        // Repeats, escalations and silence ends run on the same clock.
        notifier?.tick(now: now)
        dirty = true
    }

    func publish(force: Bool) {
        guard let slot, dirty else { return }
        let now = WallClock.monotonicNanos()
        guard force || now &- lastPublish >= publishInterval else { return }
        lastPublish = now
        dirty = false
        var snap = engine.snapshot(historyPoints: 72)
        if let notifier { Notifications.overlay(&snap, notifier) }
        slot.publish(snap)
    }
}

// MARK: - Signals for the headless service

enum ServiceSignals {
    /// Blocks the stop signals in this thread and every thread created after (call first).
    static func block() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGUSR2] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        return set
    }

    static func wait(_ set: sigset_t) -> Int32 {
        var set = set
        var sig: Int32 = 0
        while sigwait(&set, &sig) != 0 {}
        return sig
    }
}

// MARK: - run

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live: ingest feeds from stdin, files and TCP, journal them, raise alerts, show the dashboard.",
        discussion: "On start the flow model and the alert state are rebuilt from the journal, then ingest goes live. --no-ui runs as a headless service: alert transitions go to the alert log (JSON Lines, append-only); SIGTERM or SIGINT stops it cleanly.")

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var ingest: IngestOptions

    @Flag(name: .customLong("no-ui"), help: "Headless service: no screen; alerts go to the alert log.")
    var noUI = false

    @Option(name: .customLong("alert-log"), help: "Alert transitions as JSON Lines (default: <journal>/alerts.jsonl).")
    var alertLog: String?

    @Flag(help: "Exit once every finite input (files read once, stdin) is consumed (with --no-ui).")
    var once = false

    @Flag(help: "Dashboard: line mode, one line per site, only changed lines.")
    var plain = false

    @Flag(name: .customLong("no-color"), help: "Dashboard: no colour (NO_COLOR is honoured too).")
    var noColor = false

    @Option(help: "Dashboard theme: auto, colorblind, mono.")
    var theme: String = "auto"

    func validate() throws {
        if !noUI && ingest.inputs.contains("-") {
            throw ValidationError("stdin ('-') is a feed here and the dashboard reads the keyboard from it: use --no-ui")
        }
        if once && !noUI { throw ValidationError("--once needs --no-ui") }
        if once && !ingest.allFinite { throw ValidationError("--once needs finite inputs only (no listener, no --follow)") }
    }

    func run() throws {
        let signals: sigset_t? = noUI ? ServiceSignals.block() : nil
        let loaded = try configOption.loadWithText()
        let config = loaded.config
        let engine = FlowEngine(config: config, mode: .live)
        let calendar = engine.model.calendar

        // 1. Recovery: the model and the alert state, from the journal.
        let report = try Recovery.run(engine: engine, journalDirectory: ingest.journal)
        Log.info(report.summary)
        let log = try AlertLog(path: alertLog ?? (ingest.journal as NSString).appendingPathComponent("alerts.jsonl"))
        let (already, appended) = log.reconcile(with: report.transitions)
        if appended > 0 || already > 0 {
            Log.info("alert log \(log.path): \(already) recovered transitions already logged, \(appended) appended")
        }

        // Notifications: the recovered history goes through the policy again; the outbox skips
        // what was already queued, and the notifier's own log restores acknowledgements and silences.
        let notifier = try Notifications.start(system: config, text: loaded.text, path: loaded.path,
                                               directory: (ingest.journal as NSString).appendingPathComponent("notify"), mode: .live)
        if let notifier {
            notifier.handle(report.transitions)
            notifier.tick(now: WallClock.now())
        }
        defer { notifier?.close(timeout: 10) }

        // 2. Live.
        let journal = try ingest.openJournal(calendar: calendar)
        let slot = SnapshotSlot(engine.snapshot(historyPoints: 72))
        let consumer = EngineConsumer(engine: engine, runsClock: true, journal: journal, alertLog: log,
                                      slot: noUI ? nil : slot)
        consumer.notifier = notifier
        consumer.advanceIfDue()          // the first clock mark, before any new line
        consumer.publish(force: true)
        let hub = IngestHub(consumer: consumer, journal: journal,
                            configuration: .init(maxLineLength: ingest.maxLine, tickInterval: 0.1),
                            onError: { Log.warn($0) })
        do { try ingest.addSources(to: hub) } catch {
            hub.shutdown()
            throw CLIError("cannot start the inputs: \(error)")
        }
        Log.info("live: journal \(ingest.journal), alert log \(log.path)")

        if let signals {
            if once {
                let pid = getpid()
                Thread.detachNewThread {
                    hub.waitForFiniteSources()
                    kill(pid, SIGUSR2)
                }
            }
            let sig = ServiceSignals.wait(signals)
            hub.shutdown()
            try? journal.close()
            let s = hub.statistics()
            Log.info("stopped (\(sig == SIGUSR2 ? "inputs done" : "signal \(sig)")): \(s.journalLines) lines journalled this run, \(log.written) alert transitions logged")
            return
        }
        let themeName: ThemeName
        switch theme {
        case "auto", "standard": themeName = .standard
        case "colorblind", "colourblind": themeName = .colorblind
        case "mono", "monochrome": themeName = .monochrome
        default: hub.shutdown(); throw CLIError("unknown theme '\(theme)' (auto, colorblind, mono)")
        }
        let driver = LiveDriver(hub: hub, slot: slot, acks: consumer.acks, calendar: calendar)
        let exit: DashboardExit
        do {
            exit = try runDashboard(driver: driver, options: DashboardOptions(theme: themeName, noColor: noColor, plain: plain))
        } catch {
            hub.shutdown()
            throw error
        }
        hub.shutdown()
        try? journal.close()
        if case .signal(let s) = exit { Foundation.exit(128 + s) }
    }
}

// MARK: - recover (inspection)

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Rebuild the state from a journal as a restart would, and print it (no ingest, nothing written but repairs).",
        discussion: "--transitions prints every alert transition the journal implies (what the alert log of a cleanly stopped run holds); --alerts prints the active alerts with their acknowledgements.")

    @OptionGroup var configOption: ConfigOption

    @Option(help: "Journal directory.")
    var journal: String = "./urgentflow-journal"

    @Flag(help: "Print the recovered alert transitions (JSON Lines).")
    var transitions = false

    @Flag(help: "Print the active alerts (JSON Lines).")
    var alerts = false

    func run() throws {
        let config = try configOption.load()
        let engine = FlowEngine(config: config, mode: .live)
        let report = try Recovery.run(engine: engine, journalDirectory: journal)
        let out = BufferedOutput(fd: 1)
        if transitions { for t in report.transitions { out.write(t.jsonLine + "\n") } }
        if alerts {
            for a in engine.snapshot(historyPoints: 1).alerts {
                var s = "{\"rule\":\(JSONText.quote(a.rule)),\"site\":\(JSONText.quote(a.site)),\"severity\":\"\(a.severity.rawValue)\""
                s += ",\"state\":\"\(a.state)\",\"since\":\"\(RFC3339.format(a.since))\""
                s += ",\"acknowledged_by\":" + (a.acknowledgedBy.map(JSONText.quote) ?? "null")
                s += ",\"ack_note\":" + (a.ackNote.map(JSONText.quote) ?? "null")
                s += ",\"silenced_by\":" + (a.silencedBy.map(JSONText.quote) ?? "null")
                s += ",\"silenced_until\":" + (a.silencedUntil.map { "\"\(RFC3339.format($0))\"" } ?? "null")
                s += ",\"silence_reason\":" + (a.silenceReason.map(JSONText.quote) ?? "null") + "}"
                out.write(s + "\n")
            }
        }
        out.flush()
        Log.info(report.summary)
    }
}
