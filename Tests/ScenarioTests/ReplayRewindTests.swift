import FlowCore
import Foundation
import Testing

/// Rewinding a replay (the dashboard's `[` and `{` keys): the scenario is played again from its
/// start, and what the trainer sees there is what a replay that never went further shows.
@Suite struct ReplayRewindTests {
    static func player(_ name: String) throws -> ReplayPlayer {
        var p = ReplayPlayer(config: try ScenarioTimelineTests.config(), name: name,
                             lines: try ScenarioTimelineTests.lines(name).map { Array($0.utf8) }, speed: 60)
        p.keepAllTransitions = true
        p.setPaused(true, wall: 0)
        return p
    }

    /// Played to 20 hours in, then back to 9: the same screen, alerts and transitions as a replay
    /// played to 9 hours only; played on to the end, the same transitions as a headless replay.
    @Test(arguments: ["handover-crisis", "boxing-day-surge", "feed-outage"])
    func rewoundIsAsIfNeverPlayedFurther(_ name: String) throws {
        var far = try Self.player(name)
        let nine = far.start + .hours(9)
        far.play(upTo: far.start + .hours(20))
        var steps = 0, lastNow: EventTime?
        var back = far.rewound(to: nine, actions: [], following: { p in
            steps += 1
            if let n = p.engine.now, let l = lastNow { #expect(n >= l && n - l <= .minutes(1), "a tick at a time") }
            lastNow = p.engine.now
        }, apply: { _, _ in Issue.record("no actions to apply") })
        #expect(steps >= 9 * 60 - 1, "followed minute by minute: \(steps) steps")
        var fresh = try Self.player(name)
        fresh.play(upTo: nine)
        #expect(back.playhead == fresh.playhead && back.playhead == nine)
        #expect(back.engine.now == fresh.engine.now)
        #expect(back.recentTransitions == fresh.recentTransitions)
        #expect(back.engine.snapshot(historyPoints: 72) == fresh.engine.snapshot(historyPoints: 72))
        #expect(back.recentTransitions.count < far.recentTransitions.count, "the 11 hours after 9 are undone")
        back.play(upTo: EventTime(millis: .max))
        let (_, headless) = try ScenarioTimelineTests.headless(name)
        #expect(back.recentTransitions.map(\.jsonLine) == headless.map(\.jsonLine))
    }

    static func runToFirstFiring(_ p: inout ReplayPlayer) -> AlertTransition? {
        while !p.isFinished {
            if let f = p.runToNextTransition().first(where: { $0.state == .firing }) { return f }
        }
        return nil
    }

    /// An action is applied again after exactly the lines read when it was taken, whatever
    /// read them: a frame's budget of lines cut short among lines of one instant, or the `.`
    /// key reading ahead of the clock.
    @Test func anActionIsAppliedWhereItWasTaken() throws {
        // At 10:15:00 of Boxing Day, a 111 line and an ambulance line share the instant: a budget
        // can end between them.
        for budget in 1...12 {
            for stepped in [false, true] {
                var p = try Self.player("boxing-day-surge")
                p.play(upTo: p.start + .hours(10) + .minutes(14))
                if stepped { for _ in 0..<budget { p.step() } } else { p.play(upTo: p.start + .hours(14), maxLines: budget) }
                let taken = p.position
                let s = Silence(id: "s", site: "RWH", rule: nil, from: taken.at, until: taken.at + .hours(1), by: "Sam", reason: "drill")
                var seen: ReplayPlayer.Position?
                _ = p.rewound(to: taken.at + .hours(1), actions: [ReplayPlayer.Action(.silence(s), at: taken)]) { _, q in
                    seen = q.position
                    q.engine.silence(s)
                }
                #expect(seen == taken, "budget \(budget), stepped \(stepped)")
            }
        }
    }

    /// Before the start is the start; the paused state and speed carry over.
    @Test func backBeforeTheStartIsTheStart() throws {
        var p = try Self.player("handover-crisis")
        p.faster()
        p.play(upTo: p.start + .hours(3))
        let back = p.rewound(to: p.start - .hours(5), actions: []) { _, _ in }
        #expect(back.playhead == p.start)
        #expect(back.engine.now == p.start, "the start's first lines read: a clock, not 1970")
        #expect(back.next > 0)
        #expect(back.speed == p.speed && back.status.paused)
        #expect(back.recentTransitions.isEmpty || back.recentTransitions.allSatisfy { $0.at <= p.start })
    }

    /// An acknowledgement taken before the rewind's instant is applied again where it was
    /// taken (the alert shows it, and the replay goes on as it did with it); one taken after
    /// is left out.
    @Test func actionsBeforeTheInstantAreKept() throws {
        var p = try Self.player("handover-crisis")
        // Run to the first alert that fires, and acknowledge it there.
        let alert = try #require(Self.runToFirstFiring(&p))
        let ackAt = p.position
        #expect(p.engine.acknowledge(rule: alert.rule, site: alert.site, by: "Sam", note: "on it", at: ackAt.at))
        let ack = ReplayPlayer.Action(.acknowledge(rule: alert.rule, site: alert.site, by: "Sam", note: "on it"), at: ackAt)
        // Two hours on, a silence; then back to an hour after the acknowledgement.
        p.play(upTo: ackAt.at + .hours(2))
        let silenceAt = p.position
        let silence = Silence(id: "s1", site: alert.site, rule: nil, from: silenceAt.at, until: silenceAt.at + .hours(4), by: "Sam", reason: "test")
        p.engine.silence(silence)
        let hush = ReplayPlayer.Action(.silence(silence), at: silenceAt)
        var applied: [String] = []
        let back = p.rewound(to: ackAt.at + .hours(1), actions: [ack, hush]) { action, q in
            switch action.kind {
            case let .acknowledge(rule, site, by, note):
                #expect(q.engine.now == ackAt.at, "applied where it was taken")
                #expect(q.engine.acknowledge(rule: rule, site: site, by: by, note: note, at: action.position.at))
                applied.append("ack")
            case .silence(let s):
                q.engine.silence(s)
                applied.append("silence")
            }
        }
        #expect(applied == ["ack"])
        let shown = back.engine.activeAlert(rule: alert.rule, site: alert.site)
        #expect(shown == nil || shown?.acknowledgedBy == "Sam", "acknowledged, or cleared since")
        // The same as a replay that took the acknowledgement there and never went further.
        var fresh = try Self.player("handover-crisis")
        #expect(Self.runToFirstFiring(&fresh) == alert)
        #expect(fresh.position == ackAt)
        #expect(fresh.engine.acknowledge(rule: alert.rule, site: alert.site, by: "Sam", note: "on it", at: ackAt.at))
        fresh.play(upTo: ackAt.at + .hours(1))
        #expect(back.engine.snapshot(historyPoints: 72) == fresh.engine.snapshot(historyPoints: 72))
        #expect(back.recentTransitions == fresh.recentTransitions)
    }
}
