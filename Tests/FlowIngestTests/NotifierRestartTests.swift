import Foundation
import Testing
import FlowCore
@testable import FlowNotify
@testable import FlowLive

/// A restart keeps each lead's place in the repeat and escalation schedule. The recovered history
/// was handed to the notification policy all at once, with one tick at the restart: the policy
/// started every alert's repeats and escalations over from then, so an unacknowledged critical
/// alert that had run for hours went quiet for hours after each restart.
@Suite struct NotifierRestartTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func configs() throws -> (SystemConfig, NotificationConfig) {
        let path = root.appendingPathComponent("Scenarios/herts-west-essex.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let system = try ConfigLoader.load(yaml: text, file: path)
        return (system, try NotifyConfigLoader.load(yaml: text, file: path, system: system))
    }

    static let t0 = RFC3339.parse("2026-01-20T10:00:00Z")!

    /// A journal as `urgentflow run` writes it: an ambulance that arrives at Lister at 10:00 and is
    /// never handed over (its wait passes 45 and 60 minutes: a critical alert nobody
    /// acknowledges), and the live clock's mark 20.098 seconds into every minute up to `minutes`;
    /// after minute `restartedAfter`, 10.059 seconds into it (a restarted run's ticks fall at
    /// their own fraction of a second).
    static func journal(_ dir: String, minutes: Int, restartedAfter: Int = .max) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var lines = ["{\"feed\":\"ambulance\",\"id\":\"a1\",\"at\":\"\(RFC3339.format(t0))\",\"site\":\"RWH\",\"kind\":\"arrived\",\"incident\":\"inc-1\"}"]
        for m in 0...minutes {
            let into = m <= restartedAfter ? Duration(millis: 20_098) : Duration(millis: 10_059)
            lines.append(OperatorAction.mark(.clock, at: t0 + .minutes(Int64(m)) + into).jsonLine)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/journal-2026-01-20.jsonl", atomically: true, encoding: .utf8)
    }

    /// Runs `urgentflow run`'s restart path on the journal in `dir`, with the notification state
    /// in `state`, at `now`; returns the notifications logged there: kind, site, lead and instant.
    /// `everyMark`: tick at every clock mark (the live run's own ticks), not only where the
    /// policy has something due (`catchUp`'s skip), as the reference for that skip.
    static func restart(journal dir: String, state: String, now: EventTime, everyMark: Bool = false) throws -> [String] {
        let (system, notify) = try configs()
        let engine = FlowEngine(config: system, mode: .live)
        let report = try Recovery.run(engine: engine, journalDirectory: dir)
        let service = try NotificationService(system: system, config: notify, stateDirectory: state, mode: .live, notifiers: [])
        if everyMark {
            for step in report.notifierSteps {
                switch step {
                case .transitions(let range): service.handle(Array(report.transitions[range]))
                case .tick(let at): service.tick(now: at)
                }
            }
            service.tick(now: now)
        } else {
            service.catchUp(with: report, now: now)
            // Caught up: the lines of the run before are not kept for the rest of this one.
            #expect(service.log.rememberedLineCount == 0)
        }
        service.close(timeout: 2)
        let log = try String(contentsOfFile: state + "/notifications.jsonl", encoding: .utf8)
        return log.split(separator: "\n").filter { $0.hasPrefix("{\"type\":\"notification\"") }.map { line in
            func field(_ k: String) -> String {
                guard let r = line.range(of: "\"\(k)\":\"") else { return "" }
                return String(line[r.upperBound...].prefix { $0 != "\"" })
            }
            return "\(field("kind")) \(field("site")) \(field("at"))"
        }
    }

    @Test func aRestartKeepsEachAlertsPlaceInTheRepeatAndEscalationSchedule() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("uf-notify-restart-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        // One run of three hours.
        try Self.journal(tmp + "/one", minutes: 180)
        let continuous = try Self.restart(journal: tmp + "/one", state: tmp + "/one/notify", now: Self.t0 + .minutes(180) + .seconds(40))
        let everyMark = try Self.restart(journal: tmp + "/one", state: tmp + "/every/notify", now: Self.t0 + .minutes(180) + .seconds(40),
                                         everyMark: true)
        #expect(continuous == everyMark, "skipping the marks where nothing is due decides the same")
        // The same three hours with a restart at 11:50: the first run's journal, then all of it,
        // the restarted run's ticks earlier in their second than the first run's.
        try Self.journal(tmp + "/two", minutes: 110)
        _ = try Self.restart(journal: tmp + "/two", state: tmp + "/two/notify", now: Self.t0 + .minutes(110) + .seconds(40))
        try Self.journal(tmp + "/two", minutes: 180, restartedAfter: 110)
        let restarted = try Self.restart(journal: tmp + "/two", state: tmp + "/two/notify", now: Self.t0 + .minutes(180) + .seconds(40))
        #expect(restarted == continuous, "restarted:\n\(restarted.joined(separator: "\n"))\ncontinuous:\n\(continuous.joined(separator: "\n"))")
        // The schedule itself, from the run: fired at 10:45 (warning), critical at 11:00, the
        // next lead at the live clock's first tick 15 minutes on, a repeat an hour after that,
        // each at its tick's instant on the grid, as the transitions are.
        // (Handed all at once, both came at the restart's tick instead.)
        let rwh = continuous.filter { $0.contains(" RWH ") }
        #expect(rwh.contains("escalated RWH 2026-01-20T11:15:00Z"), "\(rwh)")
        #expect(rwh.contains("repeat RWH 2026-01-20T12:15:00Z"), "\(rwh)")
        #expect(!restarted.contains { $0.contains(".") }, "no instant with milliseconds: \(restarted)")
    }
}
