import Foundation
import Testing
import FlowCore
@testable import FlowNotify
@testable import FlowLive

/// `replay --notify-dir` (the replay follower): an escalation made at a tick of the grid says the
/// alert as the replay's engine describes it then, rounded, where it said the severity change's
/// value of a quarter of an hour before, unrounded.
@Suite struct NotifierFollowerValueTests {
    @Test func anEscalationInAReplaysRecordingSaysTheWaitAtItsInstant() throws {
        let (system, notify) = try NotifierRestartTests.configs()
        let dir = NSTemporaryDirectory() + "/notifier-follower-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try NotificationService(system: system, config: notify, stateDirectory: dir, mode: .replay)
        var replay = HeadlessReplay(config: system)
        var follower = NotifierFollower(service, engine: replay.engine)
        func feed(_ line: String) { follower.follow(replay.feed(line), now: replay.engine.now) }
        // An ambulance at Lister at 10:00:25, never handed over; a bed line at half past each
        // minute moves the clock (Tuesday 20 January 2026, the day's site lead first).
        let t0 = RFC3339.parse("2026-01-20T10:00:25Z")!
        feed("{\"feed\":\"ambulance\",\"id\":\"a1\",\"at\":\"\(RFC3339.format(t0))\",\"site\":\"RWH\",\"kind\":\"arrived\",\"incident\":\"inc-1\"}")
        for m in Int64(1)...80 {
            let t = RFC3339.format(t0 + .minutes(m) + .seconds(5))
            feed("{\"feed\":\"bed\",\"id\":\"b\(m)\",\"at\":\"\(t)\",\"site\":\"RWH\",\"ga_core_open\":100,\"ga_core_occupied\":80}")
        }
        follower.follow(replay.finish(), now: replay.engine.now)
        service.close(drain: true)

        let text = try String(contentsOfFile: dir + "/recorded-alertmanager.jsonl", encoding: .utf8)
        let sent = try text.split(separator: "\n").map { try NotificationJSON.decode(Array($0.utf8)) }
            .filter { $0.rule == "handover_longest_wait" }
        #expect(sent.map(\.kind) == [.firing, .severityChanged, .escalated], "\(sent.map(\.kind))")
        // Critical at 11:01 (60.6 minutes), not acknowledged 15 minutes on: the next lead at the
        // 11:16:00 tick of the grid, as live, when the wait is 75 minutes and 35 seconds (not at
        // the line that moved the clock past it, 11:16:30, as the follower once ticked).
        let escalated = try #require(sent.first { $0.kind == .escalated })
        #expect(RFC3339.format(escalated.at) == "2026-01-20T11:16:00Z")
        #expect(escalated.value == 75.6, "\(NotificationJSON.line(escalated))")
        #expect(escalated.summary.contains(" 75.6 min (critical at or above 60 min)"), "\(escalated.summary)")
        #expect(sent.allSatisfy { $0.at.millis % 60_000 == 0 }, "every message on the grid: \(sent.map { RFC3339.format($0.at) })")
        #expect(sent.first?.value == 45.6, "the firing's own value, rounded: \(sent.first.map(NotificationJSON.line) ?? "")")
    }
}
