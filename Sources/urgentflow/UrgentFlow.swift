import ArgumentParser
import FlowCore
import FlowLive
import FlowNotify
import FlowTerminal
#if canImport(Glibc)
import Glibc
#endif

@main
struct UrgentFlow: ParsableCommand {
    static let configuration = CommandConfiguration(
        // Every subcommand names itself (`commandName`): left to ArgumentParser, a name was
        // made from the type's (`String(describing:)`), for each subcommand at every start, a
        // search of the binary's protocol conformances: 11 of the 52 million instructions
        // before a headless replay reads its first line (README, "Measured").
        commandName: "urgentflow",
        abstract: "A live urgent-care flow dashboard for the terminal.",
        discussion: "With no subcommand, opens the dashboard replaying the bundled Boxing Day surge against the bundled Hertfordshire and West Essex system.",
        subcommands: [Dashboard.self, Replay.self, Check.self, Generate.self, Run.self, Record.self, RecoverCommand.self, RedactCommand.self, Ack.self, SilenceCommand.self, Loadgen.self],
        defaultSubcommand: Dashboard.self
    )
}

/// Options shared by commands that need a system configuration.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "System configuration (YAML). Default: the bundled Hertfordshire and West Essex system.")
    var config: String?

    func load() throws -> SystemConfig { try loadWithText().config }

    /// The configuration with its text and path (the notifier module reads its own section).
    func loadWithText() throws -> (config: SystemConfig, text: String, path: String) {
        let path = try config ?? Bundled.path("herts-west-essex.yaml")
        let text: String
        do { text = try readText(path) } catch { throw CLIError("cannot read configuration \(path): \(error)") }
        let core = ConfigLoader.read(yaml: text, file: path)
        if core.problems.isEmpty { return (core.config, text, path) }
        // Refused with every problem of the file, its notifications section's too (as `check`
        // names them), so that one start names all there is to mend.
        let all = NotifyConfigLoader.check(yaml: text, file: path).problems
        throw CLIError("configuration has problems:\n" + ConfigError(problems: all).description)
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a recorded scenario (JSON Lines) on its own event clock.",
        discussion: "--headless writes every alert transition to stdout as one JSON object per line and every rejected line to stderr with its line number; the output is the same at any speed.")

    @Argument(help: "Scenario file (JSON Lines), or the name of a bundled scenario (e.g. winter-weekday).")
    var scenario: String

    @OptionGroup var configOption: ConfigOption

    @Flag(help: "No screen: write alert transitions to stdout as JSON Lines.")
    var headless = false

    @Option(help: "Write the daily sitrep figures per site per local day as CSV to this file.")
    var sitrep: String?

    @Option(name: .customLong("notify-dir"), help: ArgumentHelp(
        "Headless: run the notification policy (rotas, escalation, repeats, digests) and record every notification in this folder.",
        discussion: "Notifications go to recording sinks (recorded-<notifier>.jsonl), never to real people, unless --deliver is given."))
    var notifyDir: String?

    @Flag(help: "With --notify-dir: deliver notifications through the configured notifiers for real.")
    var deliver = false

    @OptionGroup var lineLimit: MaxLineOption
    var maxLine: Int { lineLimit.maxLine }

    @OptionGroup var speedOption: SpeedOption

    @OptionGroup var display: DisplayOptions

    func validate() throws {
        // Written by a headless replay only: without --headless they were ignored, and no file came.
        if !headless, sitrep != nil { throw ValidationError("--sitrep needs --headless (the dashboard's replay writes no sitrep)") }
        if !headless, notifyDir != nil { throw ValidationError("--notify-dir needs --headless (the dashboard's replay records its notifications in a scratch folder of its own)") }
        if deliver, notifyDir == nil { throw ValidationError("--deliver needs --notify-dir") }
    }

    func run() throws {
        let loaded = try configOption.loadWithText()
        let config = loaded.config
        let path = try Bundled.scenarioPath(scenario)
        if headless {
            if let sitrep { do { try checkWritable(sitrep) } catch { throw CLIError("cannot write sitrep \(sitrep): \(error)") } }
            var notifier: NotificationService? = nil
            if let notifyDir {
                notifier = try ReplayNotifications.start(system: config, text: loaded.text, path: loaded.path,
                                                         directory: notifyDir, deliver: deliver)
            }
            defer { notifier?.close(drain: true) }   // every notification the replay made is recorded
            try runHeadless(config: config, path: path, notifier: notifier)
        } else {
            try DashboardLauncher.run(config: config, configText: loaded.text, configPath: loaded.path, scenarioPath: path,
                                      speed: speedOption.speed, options: display.dashboardOptions(), maxLine: maxLine)
        }
    }

    func runHeadless(config: SystemConfig, path: String, notifier: NotificationService?) throws {
        var replay = HeadlessReplay(config: config, sitrep: sitrep != nil)
        let out = BufferedOutput(fd: 1)
        var reported = 0
        // The engine taken here, not the replay captured (the per-line closure below mutates it).
        var follower = notifier.map { [engine = replay.engine] in NotifierFollower($0, engine: engine) }
        // At the live limit, as `check` reads it: a line `check` refuses as too long was replayed.
        try LineReader.forEachLine(path: path, maxLineLength: maxLine, tooLong: { replay.feedTooLong(length: $0, limit: maxLine) }) { line in
            let transitions = replay.feed(line)
            for t in transitions { out.write(t.jsonLine); out.write("\n") }
            follower?.follow(transitions, now: replay.engine.now)
            if replay.rejections.count > reported {
                for (n, r) in replay.rejections[reported...] {
                    FileOutput.stderr(HeadlessReplay.describe(line: n, r) + "\n")
                }
                reported = replay.rejections.count
            }
        }
        let last = replay.finish()
        // A line held at the end of the input (a jump ahead with no line after it) gets its
        // verdict here: said as any other. (Not a function shared with the loop: capturing the
        // replay in one boxed it, and every line paid for it.)
        for (n, r) in replay.rejections.dropFirst(reported) {
            FileOutput.stderr(HeadlessReplay.describe(line: n, r) + "\n")
        }
        for t in last { out.write(t.jsonLine); out.write("\n") }
        follower?.follow(last, now: replay.engine.now)
        out.flush()
        if let sitrep {
            var text = Sitrep.header + "\n"
            for row in replay.sitrepRows { text += row + "\n" }
            do { try writeText(sitrep, text) } catch { throw CLIError("cannot write sitrep \(sitrep): \(error)") }
        }
        let e = replay.engine
        FileOutput.stderr("replayed \(replay.lineNumber) lines: \(e.acceptedTotal) accepted, \(e.rejectedTotal) rejected\(Self.emptyText(replay))\n")
    }

    /// `, 2 empty` when there were empty lines (counted apart, as live ingest counts them).
    static func emptyText(_ replay: HeadlessReplay) -> String {
        replay.emptyLines > 0 ? ", \(replay.emptyLines) empty" : ""
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a feed file (JSON Lines) or a system configuration (YAML).",
        discussion: "Reports every problem with its line and field. Exits 1 if there is any problem.")

    @Argument(help: "A feed file (.jsonl) or a system configuration (.yaml/.yml).")
    var file: String

    @OptionGroup var configOption: ConfigOption

    @OptionGroup var lineLimit: MaxLineOption
    var maxLine: Int { lineLimit.maxLine }

    @Flag(name: .customLong("journal"), help: "The file is a day of urgentflow's own journal: its clock, evaluate and held marks are counted, not listed, and do not fail the check.")
    var journal = false

    func run() throws {
        if file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
            let text: String
            do { text = try readText(file) } catch { throw CLIError("cannot read \(file): \(error)") }
            // The `notifications:` section too: `run` and `replay --notify-dir` refuse a file
            // whose rotas, escalation or notifiers are wrong, so a file `check` passes must start.
            // Every problem of both, in file order.
            let checked = NotifyConfigLoader.check(yaml: text, file: file)
            guard let c = checked.system, let n = checked.notifications else {
                for p in checked.problems { print(p.description) }
                let count = checked.problems.count
                print("\(file): \(count) problem\(count == 1 ? "" : "s")")
                throw ExitCode(1)
            }
            // Singular for one (it said `1 rota entries`).
            let notifying = n.notifiers.isEmpty ? "no notifications section"
                : "\(Log.count(n.notifiers.count, "notifier")), \(n.rotas.count) rota \(n.rotas.count == 1 ? "entry" : "entries"), \(Log.count(n.routes.count, "route"))"
            print("\(file): ok: \(c.name), \(Log.count(c.units.count, "unit")), \(Log.count(c.leads.count, "lead")), \(Log.count(c.rules.count, "rule")); \(notifying)")
            // Not a problem of the file (it may be checked away from the server), but said: a
            // pager command that cannot run was found at the first critical page.
            for c in n.unrunnableCommands {
                print("\(file): warning: notifier \(c.notifier): cannot run \(c.program) on this machine: \(c.why)")
            }

            for w in n.unitsWithoutLeadWarnings(system: c) { print("\(file): warning: \(w)") }
            return
        }
        let config = try configOption.load()
        // A feed file is checked as a replay would read it (duplicates, time order, incidents).
        var replay = HeadlessReplay(config: config)
        replay.maxKeptRejections = Int.max
        // At the live limit: a line the service answers line_too_long passed `check`.
        try LineReader.forEachLine(path: file, maxLineLength: maxLine, tooLong: { replay.feedTooLong(length: $0, limit: maxLine) }) { line in
            _ = replay.feed(line)
        }
        // The end of the input, as a replay ends it: a line still held (a jump ahead with no
        // line after it) is accepted, or refused as too far ahead. Without it, such a last line
        // was counted neither accepted nor rejected, and `check` passed a file that `replay`
        // refuses a line of.
        _ = replay.finish()
        // In line order: a held line's rejection comes with a later line's (FlowEngine `held`).
        var report = replay.rejections.map { ($0.line, HeadlessReplay.describe(line: $0.line, $0.rejection)) }
        report += replay.emptyLineNumbers.map {
            ($0, "line \($0): empty line: skipped (live ingest counts it as empty, not rejected, and answers a TCP sender empty_line)")
        }
        // A journal's own marks: a replay reads them, the live service refuses them from a feed.
        // The first is named; the others are counted (a day of a journal holds a clock mark a
        // minute, and listing each buried the problems among 1,440 lines of them). With
        // `--journal` they are expected: counted only.
        let n = replay.urgentflowMarks.count
        if !journal, let m = replay.urgentflowMarks.first {
            let what: String
            switch m.kind {
            case .clock: what = "a clock mark"
            case .evaluate: what = "an evaluate mark"
            default: what = "an input-held mark"
            }
            let more = n == 1 ? "" : " (\(n - 1) more after it, not listed; for a day of urgentflow's journal, check it with --journal)"
            report.append((m.line, "line \(m.line): operator: \(what) is written by urgentflow into its journal; the live service refuses it from a feed (a replay of a journal reads it)\(more)"))
        }
        report.sort { $0.0 < $1.0 }
        for (_, text) in report { print("\(file): " + text) }
        let e = replay.engine
        let marks = n == 0 ? "" : ", \(n) journal mark\(n == 1 ? "" : "s")"
        print("\(file): \(replay.lineNumber) lines, \(e.acceptedTotal) accepted, \(e.rejectedTotal) rejected\(Replay.emptyText(replay))\(marks)")
        if e.rejectedTotal > 0 || (!journal && n > 0) { throw ExitCode(1) }
    }
}

struct Dashboard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Open the dashboard on the bundled Boxing Day surge (the default command).")

    @OptionGroup var configOption: ConfigOption

    @OptionGroup var speedOption: SpeedOption

    @OptionGroup var display: DisplayOptions

    func run() throws {
        let loaded = try configOption.loadWithText()
        let path = try Bundled.scenarioPath("boxing-day-surge")
        try DashboardLauncher.run(config: loaded.config, configText: loaded.text, configPath: loaded.path, scenarioPath: path,
                                  speed: speedOption.speed, options: display.dashboardOptions())
    }
}

/// The replay speed, shared by the commands that open a replay on the dashboard.
struct SpeedOption: ParsableArguments {
    // Unconditional: `--speed -5` is a value to refuse as one ("must be 0 or more"), where the
    // parser took it for an option and said the value was missing.
    @Option(parsing: .unconditional, help: "Event seconds per wall second in the dashboard (0 = as fast as possible).")
    var speed: Double = 300

    func validate() throws {
        if speed < 0 || !speed.isFinite { throw ValidationError("--speed must be 0 or more") }
    }
}

/// How the dashboard looks, shared by every command that opens it.
struct DisplayOptions: ParsableArguments {
    @Flag(help: "Dashboard: line mode, one line per site, only changed lines (for screen readers and logs).")
    var plain = false

    @Flag(name: .customLong("no-color"), help: "Dashboard: no colour (NO_COLOR is honoured too).")
    var noColor = false

    @Option(help: "Dashboard theme: auto (best colour depth the terminal has), colorblind, mono.")
    var theme: String = "auto"

    func validate() throws { _ = try themeName() }

    func themeName() throws -> ThemeName {
        switch theme {
        case "auto", "standard": return .standard
        case "colorblind", "colourblind": return .colorblind
        case "mono", "monochrome": return .monochrome
        default: throw ValidationError("unknown theme '\(theme)' (auto, colorblind, mono)")
        }
    }

    func dashboardOptions() throws -> DashboardOptions {
        DashboardOptions(theme: try themeName(), noColor: noColor, plain: plain)
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
