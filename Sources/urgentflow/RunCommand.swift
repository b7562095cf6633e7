import ArgumentParser
import FlowCore
import FlowLive
import FlowNotify
import FlowIngest
import FlowTerminal
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// `urgentflow run`: live feeds into the engine, the journal, the alert log and the dashboard.
// Design and recovery rules: docs/ingest.md ("Live mode").

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

    @OptionGroup var lineLimit: MaxLineOption
    var maxLine: Int { lineLimit.maxLine }

    @Option(help: "Journal directory (every accepted line, one file per local day).")
    var journal: String = "./urgentflow-journal"

    @Option(name: .customLong("retention-days"), help: "Keep this many days of journal (default: keep everything).")
    var retentionDays: Int?

    @Flag(name: .customLong("no-fsync"), help: .hidden)
    var noFsync = false

    func validate() throws {
        if let r = retentionDays, r < 1 { throw ValidationError("--retention-days must be 1 or more") }
        for spec in listen where TCPListenerConfiguration(spec: spec) == nil {
            throw ValidationError("--listen \(spec): expected tcp://HOST:PORT")
        }
        if inputs.filter({ $0 == "-" }).count > 1 { throw ValidationError("stdin ('-') can be given once") }
        // A file read once that cannot be opened is a mistake to say before anything starts: it
        // was read as an input that ended at once ("stopped (inputs done)", exit 0). A followed
        // file may appear later (said at the start).
        if !follow {
            for path in otherInputs where path != "-" && access(path, R_OK) != 0 {
                throw ValidationError("cannot read the input \(path): \(String(cString: strerror(errno)))")
            }
        }
        // A folder is never a feed: read once it ended at once, followed it was waited on for
        // ever without a word (the operators' user test).
        for path in otherInputs where path != "-" && isDirectory(path) {
            throw ValidationError("cannot read the input \(path): \(String(cString: strerror(EISDIR))) (give the feed's file)")
        }
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

    /// Takes the journal directory's lock (FlowIngest's JournalLock), or says who holds it.
    func lockJournal() throws -> JournalLock {
        do { return try JournalLock(directory: journal) } catch let e as JournalLockError {
            throw CLIError(e.description)
        } catch {
            throw CLIError("cannot lock the journal in \(journal): \(error)")
        }
    }

    /// `--retention-days` before the recovery reads the journal (`Journal.applyRetention`).
    func applyRetention(calendar: LocalCalendar) {
        guard let keep = retentionDays else { return }
        Journal.applyRetention(in: journal, keepDays: keep, today: calendar.localDate(of: WallClock.now()).description)
    }

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

    /// Closes the journal at the stop (the hub stopped first). What a full disk kept out of it
    /// is said plainly: the lines accepted and never written are not in the journal, and a
    /// restart does not have them.
    func closeJournal(_ journal: Journal) {
        do { try journal.close() } catch {
            let n = journal.pendingLineCount
            guard n > 0 else { return Log.warn("journal: closing: \(error)") }
            Log.warn("journal: \(n) accepted line\(n == 1 ? "" : "s") could not be written before the stop and \(n == 1 ? "is" : "are") "
                     + "not in it (\(error)). A followed or read file's lines are read again at the next start (its position "
                     + "stays before them); lines from stdin must be sent again; TCP senders were answered journal_failed")
        }
    }

    /// Binds every listener, before anything is made on disk: a port in use failed the start
    /// after the journal directory had been made (by the lock), and left it behind. Producers
    /// that connect meanwhile wait, unread, until `addSources` (recovery first).
    func bindListeners() throws -> [BoundTCPListener] {
        do {
            return try listeners.map { try IngestHub.bindTCPListener($0) }
        } catch {
            throw CLIError("cannot start the inputs: \(error)")
        }
    }

    /// Adds every source to the hub, the listeners bound by `bindListeners`; prints where the
    /// listeners are.
    func addSources(to hub: IngestHub, listeners bound: [BoundTCPListener]) throws {
        for (l, b) in zip(listeners, bound) {
            let info = hub.addTCPListener(b)
            Log.info("listening on tcp://\(info.host):\(info.port)" + (l.tokens.isEmpty ? "" : " (token required)"))
        }
        for input in otherInputs {
            if follow, input != "-", access(input, F_OK) != 0 { Log.info("following \(input): it does not exist yet; waiting for it") }
            try hub.addInput(input, follow: follow)
        }
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
        commandName: "run",
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

    @OptionGroup var display: DisplayOptions

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

        // 1. Recovery: the model and the alert state, from the journal. The listeners are bound
        // before the lock makes the journal directory, so that a port in use leaves none.
        let listeners = try ingest.bindListeners()
        let lock = try ingest.lockJournal()   // one writer per journal, from before recovery
        defer { withExtendedLifetime(lock) {} }
        // The recovery report is as long as the journal (every transition, and a step for each
        // clock mark: 172,800 of them for 120 days), and held here it lived as long as the
        // service: it is used, then let go, inside `restart`.
        func restart() throws -> (TransitionLog, NotificationService?) {
            // The days past retention go first: recovered from, then deleted, they made a state
            // no later restart could rebuild.
            ingest.applyRetention(calendar: calendar)
            let report = try Recovery.run(engine: engine, journalDirectory: ingest.journal)
            Log.info(report.summary)
            let log = try TransitionLog(path: alertLog ?? (ingest.journal as NSString).appendingPathComponent("alerts.jsonl"))
            let (already, appended) = log.reconcile(with: report.transitions)
            if appended > 0 || already > 0 {
                Log.info("alert log \(log.path): \(Log.count(already, "recovered transition")) already logged, \(appended) appended")
            }
            // Notifications: the recovered history goes through the policy again, ticked where
            // the live clock ticked it; the outbox skips what was already queued, and the
            // notifier's own log restores acknowledgements and silences.
            let notifier = try Notifications.start(system: config, text: loaded.text, path: loaded.path,
                                                   directory: (ingest.journal as NSString).appendingPathComponent("notify"), mode: .live)
            notifier?.catchUp(with: report, now: WallClock.now(), current: engine.activeAlert)
            return (log, notifier)
        }
        let (log, notifier) = try restart()
        defer { notifier?.close(timeout: 10) }

        // 2. Live.
        let screenOptions = signals == nil ? try display.dashboardOptions() : nil
        let journal = try ingest.openJournal(calendar: calendar)
        let slot = SnapshotSlot(engine.snapshot(historyPoints: 72))
        let consumer = EngineConsumer(engine: engine, runsClock: true, journal: journal, alertLog: log,
                                      slot: noUI ? nil : slot)
        consumer.notifier = notifier
        let rejections = RejectionFile(directory: ingest.journal, now: WallClock.now())
        if let problem = rejections.restore(into: engine) { Log.warn(problem) }
        consumer.rejectionFile = rejections
        consumer.advanceIfDue()          // the first clock mark, before any new line
        consumer.publish(force: true)
        let hub = IngestHub(consumer: consumer, journal: journal,
                            configuration: .init(maxLineLength: ingest.maxLine, tickInterval: 0.1),
                            onError: { Log.warn($0) }, onNotice: { Log.info($0) })
        // With the dashboard, stderr (warnings, rejected lines) goes to a log file next to the
        // journal from before the first line is read, and the latest warning is shown on the
        // status line.
        let stderrWhileOnScreen = ScreenStderr(logFile: (ingest.journal as NSString).appendingPathComponent("urgentflow.log"))
        if let screenOptions, !screenOptions.plain { stderrWhileOnScreen.divertAhead() }
        do { try ingest.addSources(to: hub, listeners: listeners) } catch {
            hub.shutdown()
            stderrWhileOnScreen.screen(false)
            throw CLIError("cannot start the inputs: \(error)")
        }
        Log.info("live: journal \(ingest.journal), alert log \(log.path)")
        // The stop, on every path: no more lines, the rejection counts saved, the journal closed
        // (what a full disk kept out of it said plainly).
        func stop() {
            hub.shutdown()
            consumer.sayUnloggedRejections()
            consumer.saveRejections(force: true)
            ingest.closeJournal(journal)
        }

        if let signals {
            if once {
                let pid = getpid()
                Thread.detachNewThread {
                    hub.waitForFiniteSources()
                    kill(pid, SIGUSR2)
                }
            }
            let sig = ServiceSignals.wait(signals)
            stop()
            let s = hub.statistics()
            // The lines read, as `replay` and `check` count them (empty ones too), then what the
            // journal holds: urgentflow's own clock and evaluate marks are journal lines as well.
            Log.info("stopped (\(sig == SIGUSR2 ? "inputs done" : "signal \(sig)")): lines \(s.linesSummary); \(Log.count(s.journalLines, "journal line")) "
                     + "written this run (with the clock's marks), \(Log.count(log.written, "alert transition")) logged")
            return
        }
        let driver = LiveDriver(hub: hub, slot: slot, acks: consumer.acks, calendar: calendar)
        let exit: DashboardExit
        do {
            exit = try runDashboard(driver: driver, options: screenOptions!, onScreen: stderrWhileOnScreen.screen)
        } catch {
            stop()
            throw error
        }
        stop()
        if case .signal(let s) = exit { Foundation.exit(128 + s) }
    }
}

// MARK: - recover (inspection)

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Rebuild the state from a journal as a restart would, and print it (no ingest, nothing written: safe beside a running service).",
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
        try requireJournalDirectory(journal)
        // A journal written with another system file rebuilds other alerts under the bundled
        // one: said, where it was taken without a word (the operators' user test).
        if configOption.config == nil {
            Log.info("rules from the bundled configuration (\(config.name)): give --config with the system file the journal was written with if it was another")
        }
        let engine = FlowEngine(config: config, mode: .live)
        // Only read: a running service may be writing its last line. Set aside as half-written,
        // a line the service was writing was cut out of its journal after it had answered `ok`
        // (the operators' user test lost 6 and 7 lines running `recover` beside a live feed).
        let report = try Recovery.run(engine: engine, journalDirectory: journal, repair: false)
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
