import Foundation
import Testing
@testable import FlowCore
@testable import FlowNotify

/// A restart decides what the live run decided, at the same instants, with the same ids, when the
/// operator's actions fell between the clock's ticks. The restart ticked the policy at each
/// restored acknowledgement's own instant (live, an acknowledgement never ticks it): an
/// acknowledgement expiring in the seconds before a silence was decided before the silence
/// (`ack_expired`, never sent live), which moved the alert's sequence on, so the silence's end and
/// the next severity change were decided again under new ids and sent a second time (the user
/// test of `kill -9` during a silence).
@Suite(.serialized) struct RestoredActionTests {
    static let t0 = utc("2026-01-20T10:00:00Z")

    /// The live run's inputs to the service, in the order the live run gave them: transitions,
    /// the clock's ticks on the minute grid, and (`live`) the operator's actions at their own
    /// instants, between ticks. A restart re-feeds the transitions and ticks only (`live` false):
    /// the actions come back from the log. `everyMark` false: only the marks where something is
    /// due, as `catchUp` does.
    static func run(_ svc: NotificationService, live: Bool, everyMark: Bool = true) {
        func tick(_ m: Int64) {
            let at = t0 + .minutes(m)
            if everyMark { svc.tick(now: at) } else { svc.tickIfDue(now: at) }
        }
        svc.handle([transition("handover_longest_wait", "RWH", .warning, .firing, at: "2026-01-20T10:00:00Z")])
        svc.handle([transition("handover_queue", "RWH", .warning, .firing, at: "2026-01-20T10:00:00Z")])
        for m in Int64(1)...25 {
            tick(m)
            guard live else {
                if m == 18 {
                    svc.handle([transition("handover_longest_wait", "RWH", .critical, .severityChanged, at: "2026-01-20T10:18:00Z",
                                           since: "2026-01-20T10:00:00Z")])
                }
                continue
            }
            switch m {
            case 2:
                // Acknowledged, with an expiry 8 minutes on (10:10:04.440).
                svc.acknowledge(rule: "handover_longest_wait", site: "RWH", by: "Priya Shah", note: "HALO in ED",
                                at: utc("2026-01-20T10:02:04.440Z"), expires: utc("2026-01-20T10:10:04.440Z"))
            case 10:
                // Half a second after that ack expired: another alert of the site acknowledged, and
                // the whole site silenced for 6 minutes. The next tick (10:11) finds the expired ack
                // silenced: nobody is told until the silence ends.
                svc.acknowledge(rule: "handover_queue", site: "RWH", by: "Priya Shah", note: "cohorting",
                                at: utc("2026-01-20T10:10:04.943Z"), expires: utc("2026-01-20T10:40:04.943Z"))
                svc.silence(Silence(id: "silence-cli-1", site: "RWH", from: utc("2026-01-20T10:10:04.962Z"),
                                    until: utc("2026-01-20T10:16:04.962Z"), by: "Morgan Lee", reason: "system call"))
            case 18:
                svc.handle([transition("handover_longest_wait", "RWH", .critical, .severityChanged, at: "2026-01-20T10:18:00Z",
                                       since: "2026-01-20T10:00:00Z")])
            default: break
            }
        }
    }

    /// The notifications in the log: kind, rule, instant, id.
    static func notifications(_ dir: TempDir) throws -> [String] {
        let text = try String(contentsOfFile: dir.file(NotificationService.logName), encoding: .utf8)
        return text.split(separator: "\n").filter { $0.hasPrefix("{\"type\":\"notification\"") }.map { line in
            func field(_ k: String) -> String {
                guard let r = line.range(of: "\"\(k)\":\"") else { return "" }
                return String(line[r.upperBound...].prefix { $0 != "\"" })
            }
            return "\(field("kind")) \(field("rule")) \(field("at")) \(field("id"))"
        }
    }

    @Test(arguments: [true, false])
    func aRestartDecidesWhatTheLiveRunDecidedWhenActionsFallBetweenTicks(everyMark: Bool) throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        let first = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [])
        Self.run(first, live: true)
        first.close(timeout: 2)
        let live = try Self.notifications(dir)
        // Live: no ack_expired (silenced when the tick came); the silence's end at the tick after
        // it, then the severity change.
        #expect(!live.contains { $0.hasPrefix("ack_expired") }, "\(live)")
        #expect(live.count == 4, "\(live)")
        #expect(live.contains { $0.hasPrefix("silence_ended handover_longest_wait 2026-01-20T10:17:00Z") }, "\(live)")
        #expect(live.contains { $0.hasPrefix("severity_changed handover_longest_wait 2026-01-20T10:18:00Z") }, "\(live)")
        // A crash and a restart into the same state: the same history re-fed, the actions from
        // the log. Nothing new is decided: every decision has the id the live run gave it.
        let second = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [])
        Self.run(second, live: false, everyMark: everyMark)
        second.close(timeout: 2)
        let after = try Self.notifications(dir)
        #expect(after == live, "decided again after the restart:\n\(after.dropFirst(live.count).joined(separator: "\n"))")
        // And the restored state is the live one: the site's silence over, handover_queue still acknowledged.
        let queue = second.activeAlerts().first { $0.rule == "handover_queue" }
        #expect(queue?.acknowledgement?.note == "cohorting")
    }

    /// A state directory from before the notification log's rename (its log `alerts.jsonl`, the
    /// transition log's name too): the first start renames it to `notifications.jsonl`, says
    /// so, and carries on from it as from its own log: the acknowledgement restored, nothing
    /// decided or written again. A second start renames nothing.
    @Test func aStateDirectoryFromBeforeTheRenameCarriesOn() throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        let first = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [])
        #expect(first.migration == nil)
        Self.run(first, live: true)
        first.close(timeout: 2)
        let live = try Self.notifications(dir)
        let written = try String(contentsOfFile: dir.file(NotificationService.logName), encoding: .utf8)
        // As an earlier version left it.
        try FileManager.default.moveItem(atPath: dir.file(NotificationService.logName), toPath: dir.file("alerts.jsonl"))
        let second = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [])
        let said = try #require(second.migration)
        #expect(said.contains("alerts.jsonl renamed to") && said.hasSuffix(")") && said.contains(NotificationService.logName), "\(said)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("alerts.jsonl")))
        Self.run(second, live: false)
        second.close(timeout: 2)
        #expect(try Self.notifications(dir) == live)
        let queue = second.activeAlerts().first { $0.rule == "handover_queue" }
        #expect(queue?.acknowledgement?.note == "cohorting", "the acknowledgement restored from the renamed log")
        let after = try String(contentsOfFile: dir.file(NotificationService.logName), encoding: .utf8)
        #expect(after.hasPrefix(written))
        #expect(!after.dropFirst(written.count).contains("\"type\":\"transition\""), "no transition written again")
        let third = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [])
        #expect(third.migration == nil)
        third.close(timeout: 2)
    }

    /// A `log` notifier naming its own path keeps that file, `alerts.jsonl` included, and an
    /// `alerts.jsonl` beside a log of the new name is left alone.
    @Test func aLogNamedInTheConfigurationIsNotRenamed() throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        try "{}\n".write(toFile: dir.file("alerts.jsonl"), atomically: true, encoding: .utf8)
        try "".write(toFile: dir.file(NotificationService.logName), atomically: true, encoding: .utf8)
        #expect(try NotificationService.migrateLegacyLog(stateDirectory: dir.path, logPath: dir.file(NotificationService.logName)) == nil)
        try FileManager.default.removeItem(atPath: dir.file(NotificationService.logName))
        #expect(try NotificationService.migrateLegacyLog(stateDirectory: dir.path, logPath: dir.file("alerts.jsonl")) == nil)
        #expect(try NotificationService.migrateLegacyLog(stateDirectory: dir.path, logPath: "/var/log/urgentflow/notify.jsonl") == nil)
        #expect(FileManager.default.fileExists(atPath: dir.file("alerts.jsonl")))
        var own = n
        own.notifiers = own.notifiers.map { x in
            var x = x
            if case .log = x.kind { x.kind = .log(path: "alerts.jsonl") }
            return x
        }
        let svc = try NotificationService(system: system, config: own, stateDirectory: dir.path, mode: .live, notifiers: [])
        #expect(svc.migration == nil)
        svc.close(timeout: 2)
        #expect(!FileManager.default.fileExists(atPath: dir.file(NotificationService.logName)))
    }

    /// A silence restored from the log is in force from when it was given, and one given later
    /// for the same site replaces it only then: all applied at the start, the later one replaced
    /// the earlier before its time, and the restart escalated what the earlier one had held back.
    @Test func aRestoredSilenceIsReplacedOnlyWhenTheNextIsGiven() throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        func feed(_ svc: NotificationService, live: Bool) {
            svc.handle([transition("handover_queue", "RWH", .critical, .firing, at: "2026-01-20T10:00:00Z")])
            for m in Int64(1)...40 {
                svc.tick(now: Self.t0 + .minutes(m))
                guard live else { continue }
                if m == 5 {
                    svc.silence(Silence(id: "s1", site: "RWH", from: utc("2026-01-20T10:05:30Z"), until: utc("2026-01-20T10:12:30Z"),
                                        by: "Morgan Lee", reason: "call"))
                }
                if m == 20 {
                    svc.silence(Silence(id: "s2", site: "RWH", from: utc("2026-01-20T10:20:30Z"), until: utc("2026-01-20T10:30:30Z"),
                                        by: "Morgan Lee", reason: "second call"))
                }
            }
        }
        let first = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [])
        feed(first, live: true)
        first.close(timeout: 2)
        let live = try Self.notifications(dir)
        #expect(live.contains { $0.hasPrefix("silence_ended handover_queue 2026-01-20T10:13:00Z") }, "\(live)")
        let second = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [])
        feed(second, live: false)
        second.close(timeout: 2)
        let after = try Self.notifications(dir)
        #expect(after == live, "decided again after the restart:\n\(after.dropFirst(live.count).joined(separator: "\n"))")
    }
}
