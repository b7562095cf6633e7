import FlowCore
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

    init(player: ReplayPlayer) {
        self.player = player
        self.player.setPaused(false, wall: 0)
    }

    private var wallMillis: Int64 {
        let d = ContinuousClock.now - start
        return d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    func advance() -> Bool {
        player.advance(wall: wallMillis, maxLines: 20_000)
    }

    func snapshot() -> DashboardSnapshot {
        player.engine.snapshot(historyPoints: 72, replay: player.status)
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
            return player.step() ? nil : "end of scenario"
        case .nextAlertTransition:
            let t = player.runToNextTransition()
            guard let last = t.last else { return "no further alert transitions" }
            return "\(last.state.rawValue): \(last.rule) at \(last.site)"
        case .acknowledge(let rule, let site, let by, let note):
            let at = player.engine.now ?? player.playhead
            return player.engine.acknowledge(rule: rule, site: site, by: by, note: note, at: at)
                ? "acknowledged \(rule) at \(site)" : "no active alert \(rule) at \(site)"
        }
    }

    private var speedText: String { player.speed == 0 ? "max" : "x\(Int(player.speed))" }
}

enum DashboardLauncher {
    static func run(config: SystemConfig, scenarioPath: String, speed: Double, plain: Bool, noColor: Bool, theme: String) throws {
        let themeName: ThemeName
        switch theme {
        case "auto", "standard": themeName = .standard
        case "colorblind", "colourblind": themeName = .colorblind
        case "mono", "monochrome": themeName = .monochrome
        default: throw CLIError("unknown theme '\(theme)' (auto, colorblind, mono)")
        }
        var lines: [[UInt8]] = []
        try LineReader.forEachLine(path: scenarioPath) { lines.append(Array($0)) }
        let name = URL(fileURLWithPath: scenarioPath).deletingPathExtension().lastPathComponent
        let player = ReplayPlayer(config: config, name: name, lines: lines, speed: speed)
        let driver = ReplayDriver(player: player)
        let options = DashboardOptions(theme: themeName, noColor: noColor, plain: plain)
        let exit = try runDashboard(driver: driver, options: options)
        if case .signal(let s) = exit { Foundation.exit(128 + s) }
    }
}
