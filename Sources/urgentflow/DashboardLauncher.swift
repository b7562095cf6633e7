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
    private let notifier: NotificationService?
    private var follower: NotifierFollower?

    init(player: ReplayPlayer, notifier: NotificationService?) {
        self.player = player
        self.notifier = notifier
        self.follower = notifier.map { NotifierFollower($0, engine: player.engine) }
        self.player.collectUnread = notifier != nil
        self.player.setPaused(false, wall: 0)
    }

    private func feedNotifier() {
        follower?.follow(player.drainNewTransitions(), now: player.engine.now)
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
            let at = player.engine.now ?? player.playhead
            let ok = player.engine.acknowledge(rule: rule, site: site, by: by, note: note, at: at)
            if ok { _ = notifier?.acknowledge(rule: rule, site: site, by: by, note: note, at: at) }
            return ok ? "acknowledged \(rule) at \(site)" : player.engine.ackRefusal(rule: rule, site: site)
        case let .silence(rule, site, by, duration, reason):
            let at = player.engine.now ?? player.playhead
            let silence = Silence(id: "silence-\(at.millis)-\(rule ?? "all")-\(site)", site: site, rule: rule, from: at,
                                  until: at + duration, by: by, reason: reason)
            player.engine.silence(silence)
            notifier?.silence(silence)
            // As the live service says it (local time, the end), the replay's clock being the event time.
            let until = FlowEngine.localClock(silence.until, player.engine.model.calendar)
            return "Silenced \(rule ?? "every alert") at \(site) until \(until) (for \(duration))"
        }
    }

    private var speedText: String { player.speed == 0 ? "max" : "x\(Int(player.speed))" }
}

enum DashboardLauncher {
    static func run(config: SystemConfig, configText: String? = nil, configPath: String = "", scenarioPath: String, speed: Double,
                    options: DashboardOptions) throws {
        var lines: [[UInt8]] = []
        // A line too long to read stands as an empty line: the engine rejects and counts it. An
        // empty line in the file (or one of only spaces) is no message: skipped, as live ingest
        // and a headless replay skip it (`FeedLine.isEmpty`).
        try LineReader.forEachLine(path: scenarioPath, tooLong: { _ in lines.append([]) }) {
            if !FeedLine.isEmpty($0) { lines.append(Array($0)) }
        }
        let name = URL(fileURLWithPath: scenarioPath).deletingPathExtension().lastPathComponent
        let player = ReplayPlayer(config: config, name: name, lines: lines, speed: speed)
        // Notifications follow the replay into recording sinks in a scratch folder: never to people.
        let scratch = NSTemporaryDirectory() + "urgentflow-replay-\(getpid())"
        try? FileManager.default.removeItem(atPath: scratch)
        let notifier = try configText.flatMap {
            try Notifications.start(system: config, text: $0, path: configPath, directory: scratch, mode: .replay)
        }
        defer {
            notifier?.close(timeout: 2)
            try? FileManager.default.removeItem(atPath: scratch)
        }
        let driver = ReplayDriver(player: player, notifier: notifier)
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let stderrWhileOnScreen = ScreenStderr(logFile: scratch + "/urgentflow.log", kept: false)
        let exit = try runDashboard(driver: driver, options: options, onScreen: stderrWhileOnScreen.screen)
        if case .signal(let s) = exit { Foundation.exit(128 + s) }
    }
}
