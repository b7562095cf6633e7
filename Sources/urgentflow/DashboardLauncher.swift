import FlowCore
import FlowLive
import FlowNotify
import FlowTerminal
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Connects a replay to the dashboard: the player owns the event clock, the dashboard owns
/// the terminal.
final class ReplayDriver: DashboardDriver {
    private var player: ReplayPlayer
    private let start = ContinuousClock.now
    /// The notification policy following the replay (recording sinks only): who was warned,
    /// by rota and escalation, is its answer, not the first lead in the file.
    private var notifier: NotificationService?
    private var follower: NotifierFollower?
    /// A fresh notification policy for a replay rewound (its own scratch folder, numbered).
    private let makeNotifier: (Int) -> NotificationService?
    private var rewinds = 0
    /// The acknowledgements and silences taken in this replay, in order, each with where the
    /// replay stood: applied again when it is rewound past them.
    private var actions: [ReplayPlayer.Action] = []

    init(player: ReplayPlayer, notifier: NotificationService?, makeNotifier: @escaping (Int) -> NotificationService?) {
        self.player = player
        self.makeNotifier = makeNotifier
        self.notifier = notifier
        self.follower = notifier.map { NotifierFollower($0, engine: player.engine) }
        self.player.collectUnread = notifier != nil
        self.player.setPaused(false, wall: 0)
    }

    /// Closes the notification policy (at the end of the dashboard).
    func close() { notifier?.close(timeout: 2) }

    private func feedNotifier() { follow(&player) }

    /// The notification policy follows `p`'s new transitions and clock (a follower made for
    /// `p`'s engine first, when it is a rewound replay's new one).
    private func follow(_ p: inout ReplayPlayer) {
        if follower?.engine !== p.engine, let notifier { follower = NotifierFollower(notifier, engine: p.engine) }
        follower?.follow(p.drainNewTransitions(), now: p.engine.now)
    }

    private var wallMillis: Int64 {
        let d = ContinuousClock.now - start
        return d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    func advance() -> Bool {
        let changed = player.advance(wall: wallMillis, maxLines: 20_000)
        if changed { feedNotifier() }
        return changed
    }

    func snapshot() -> DashboardSnapshot {
        var snap = player.engine.snapshot(historyPoints: 72, replay: player.status)
        if let notifier { Notifications.overlay(&snap, notifier) }
        return snap
    }

    func perform(_ command: DriverCommand) -> String? {
        switch command {
        case .setPaused(let p):
            player.setPaused(p, wall: wallMillis)
            return nil
        case .faster:
            player.faster()
            return "speed \(speedText)"
        case .slower:
            player.slower()
            return "speed \(speedText)"
        case .stepEvent:
            defer { feedNotifier() }
            return player.step() ? nil : "end of scenario"
        case .nextAlertTransition:
            let t = player.runToNextTransition()
            feedNotifier()
            guard let last = t.last else { return "no further alert transitions" }
            if t.count == 1 { return "\(last.state.rawValue): \(last.rule) at \(last.site)" }
            // Every change of the tick, not only the last (a queue's pending beside a wait's firing).
            return "\(t.count) alert changes: " + t.map { "\($0.state.rawValue) \($0.rule) at \($0.site)" }.joined(separator: "; ")
        case .acknowledge(let rule, let site, let by, let note):
            let position = player.position
            let ok = apply(.acknowledge(rule: rule, site: site, by: by, note: note), at: position.at, to: &player)
            if ok { actions.append(ReplayPlayer.Action(.acknowledge(rule: rule, site: site, by: by, note: note), at: position)) }
            return ok ? "acknowledged \(rule) at \(site)" : player.engine.ackRefusal(rule: rule, site: site)
        case let .silence(rule, site, by, duration, reason):
            let position = player.position
            let at = position.at
            let silence = Silence(id: "silence-\(at.millis)-\(rule ?? "all")-\(site)", site: site, rule: rule, from: at,
                                  until: at + duration, by: by, reason: reason)
            _ = apply(.silence(silence), at: at, to: &player)
            actions.append(ReplayPlayer.Action(.silence(silence), at: position))
            // As the live service says it (local time, the end), the replay's clock being the event time.
            return "Silenced \(rule ?? "every alert") at \(site) until \(clock(silence.until)) (for \(duration))"
        case .jump(let d) where d.millis >= 0:
            player.play(upTo: player.playhead + d)
            feedNotifier()
            return player.isFinished ? "end of scenario" : "ahead to \(clock(player.playhead))"
        case .jump(let d):
            return rewind(to: player.playhead + d)
        case .rewindToStart:
            return rewind(to: player.start)
        }
    }

    /// The operator's action on `p`'s engine and the notification policy following it (after
    /// the transitions before it). Whether the engine took it (an acknowledgement of an alert
    /// no longer active is refused).
    private func apply(_ kind: ReplayPlayer.Action.Kind, at: EventTime, to p: inout ReplayPlayer) -> Bool {
        follow(&p)
        switch kind {
        case let .acknowledge(rule, site, by, note):
            guard p.engine.acknowledge(rule: rule, site: site, by: by, note: note, at: at) else { return false }
            _ = notifier?.acknowledge(rule: rule, site: site, by: by, note: note, at: at)
        case .silence(let s):
            p.engine.silence(s)
            notifier?.silence(s)
        }
        return true
    }

    /// The scenario played again from its start to `target` (the tick at or below it), with the
    /// actions taken before then, and a fresh notification policy following it; the actions
    /// after it are dropped, as the trainer has gone back to before them.
    private func rewind(to target: EventTime) -> String {
        rewinds += 1
        notifier?.close(timeout: 2)
        notifier = makeNotifier(rewinds)
        follower = nil
        // The actions kept are those the rewound replay took again: the others were after it.
        var kept: [ReplayPlayer.Action] = []
        let rewound = player.rewound(to: target, actions: actions, following: { follow(&$0) }, apply: { action, p in
            _ = apply(action.kind, at: action.position.at, to: &p)
            kept.append(action)
        })
        player = rewound
        let dropped = actions.count - kept.count
        actions = kept
        let undone = dropped == 0 ? "" : "; \(dropped) acknowledgement\(dropped == 1 ? "" : "s") or silence\(dropped == 1 ? "" : "s") after it undone"
        return "back to \(clock(player.playhead))\(undone)"
    }

    /// An instant as the dashboard's clock says it (local time).
    private func clock(_ t: EventTime) -> String { FlowEngine.localClock(t, player.engine.model.calendar) }

    /// As the header says it (`x300`, `x86.4k`, `max`; `×` there under UTF-8): `x\(Int(speed))` said
    /// x10 where the header said ×10.5.
    private var speedText: String { Format.speed(player.speed, unicode: false) }
}

enum DashboardLauncher {
    static func run(config: SystemConfig, configText: String? = nil, configPath: String = "", scenarioPath: String, speed: Double,
                    options: DashboardOptions, maxLine: Int = MaxLineOption.defaultBytes) throws {
        var lines: [[UInt8]] = []
        // A line too long to read stands as an empty line: the engine rejects and counts it. An
        // empty line in the file (or one of only spaces) is no message: skipped, as live ingest
        // and a headless replay skip it (`FeedLine.isEmpty`).
        try LineReader.forEachLine(path: scenarioPath, maxLineLength: maxLine, tooLong: { _ in lines.append([]) }) {
            if !FeedLine.isEmpty($0) { lines.append(Array($0)) }
        }
        let name = URL(fileURLWithPath: scenarioPath).deletingPathExtension().lastPathComponent
        let player = ReplayPlayer(config: config, name: name, lines: lines, speed: speed)
        // Notifications follow the replay into recording sinks in a scratch folder: never to people.
        // A rewound replay starts a fresh policy in a folder of its own.
        let scratch = NSTemporaryDirectory() + "urgentflow-replay-\(getpid())"
        try? FileManager.default.removeItem(atPath: scratch)
        func startNotifier(in directory: String) throws -> NotificationService? {
            try configText.flatMap { try Notifications.start(system: config, text: $0, path: configPath, directory: directory, mode: .replay) }
        }
        // A configuration that started once starts again (a rewind's fresh policy).
        let driver = ReplayDriver(player: player, notifier: try startNotifier(in: scratch)) { n in
            try? startNotifier(in: scratch + "/rewind-\(n)")
        }
        defer {
            driver.close()
            try? FileManager.default.removeItem(atPath: scratch)
        }
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let stderrWhileOnScreen = ScreenStderr(logFile: scratch + "/urgentflow.log", kept: false)
        let exit = try runDashboard(driver: driver, options: options, onScreen: stderrWhileOnScreen.screen)
        if case .signal(let s) = exit { Foundation.exit(128 + s) }
    }
}
