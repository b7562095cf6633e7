import Testing
import Foundation
import FlowCore
@testable import FlowTerminal

/// The user's steps on the bundled system and Scenarios/handover-crisis.jsonl, through the real
/// engine's snapshot to the drawn dashboard: "Longest wait" acknowledged when it fires, then
/// worse (critical), then acknowledged again and left past the 4h acknowledgement expiry. The
/// row read "✔ ack Priya Shah" throughout and the title's "not acked" count left it out.
@Suite struct AckExpiryDashboardTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func rows(_ snap: DashboardSnapshot) -> (title: String, row: String) {
        let c = DashboardController(driver: FakeDriver(snap))
        let text = render(c, 200, 50).text.split(separator: "\n").map(String.init)
        return (text.first { $0.contains("Alerts ") } ?? "", text.first { $0.contains("handover_longest_wait") } ?? "")
    }

    @Test func anAcknowledgementIsShownOnlyUntilTheAlertWorsensOrItExpires() throws {
        let yaml = try String(contentsOf: Self.root.appendingPathComponent("Scenarios/herts-west-essex.yaml"), encoding: .utf8)
        let config = try ConfigLoader.load(yaml: yaml, file: "herts-west-essex.yaml")
        #expect(config.ackExpiry == .hours(4))
        let lines = try String(contentsOf: Self.root.appendingPathComponent("Scenarios/handover-crisis.jsonl"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        var r = HeadlessReplay(config: config)
        var i = 0
        func feed(until done: ([AlertTransition]) -> Bool) -> Bool {
            while i < lines.count {
                let t = r.feed(lines[i]); i += 1
                if done(t) { return true }
            }
            return false
        }
        var fired: AlertTransition?
        #expect(feed { ts in fired = ts.first { $0.rule == "handover_longest_wait" && $0.state == .firing && $0.severity == .warning }; return fired != nil })
        let f = try #require(fired)
        #expect(r.engine.acknowledge(rule: f.rule, site: f.site, by: "Priya Shah", note: "HALO in ED", at: f.at))
        func shown() -> AlertSnapshot? { r.engine.snapshot(historyPoints: 1).alerts.first { $0.rule == f.rule && $0.site == f.site } }
        #expect(shown()?.acknowledgedBy == "Priya Shah")
        #expect(rows(r.engine.snapshot(historyPoints: 1)).row.contains("ack Priya Shah"))

        // Worse: critical, and no longer acknowledged.
        var worse: AlertTransition?
        #expect(feed { ts in worse = ts.first { $0.rule == f.rule && $0.site == f.site && $0.state == .severityChanged && $0.severity == .critical }; return worse != nil })
        let w = try #require(worse)
        let critical = r.engine.snapshot(historyPoints: 1)
        #expect(shown()?.acknowledgedBy == nil)
        let (title1, row1) = rows(critical)
        #expect(!row1.contains("ack Priya Shah") && row1.contains("not acked"), "\(row1)")
        #expect(title1.contains("not acked"), "\(title1)")

        // Acknowledged again; 4h later it has expired and says so.
        #expect(r.engine.acknowledge(rule: f.rule, site: f.site, by: "Priya Shah", note: "HALO in ED", at: w.at))
        let acked = rows(r.engine.snapshot(historyPoints: 1))
        #expect(acked.row.contains("ack Priya Shah"))
        _ = feed { _ in r.engine.snapshot(historyPoints: 1).now >= w.at + .hours(4) + .minutes(5) }
        let late = r.engine.snapshot(historyPoints: 1)
        try #require(late.now >= w.at + .hours(4), "the scenario runs 4h past the worsening")
        let a = try #require(shown(), "still active 4h later")
        #expect(a.acknowledgedBy == nil && a.expiredAckBy == "Priya Shah" && a.ackExpiredAt == w.at + .hours(4))
        let (title2, row2) = rows(late)
        #expect(row2.contains("ack expired") && !row2.contains("✔"), "\(row2)")
        #expect(title2.contains("not acked"), "\(title2)")
    }

    @Test func anExpiredAcknowledgementCountsAsNotAcked() {
        var s = Fixtures.snapshot(replay: nil)
        let i = s.alerts.firstIndex { $0.rule == "handover_queue" }!
        let before = render(DashboardController(driver: FakeDriver(s)), 200, 50).text
        #expect(before.contains("(2 not acked)"))
        s.alerts[i].acknowledgedBy = nil
        s.alerts[i].acknowledgedAt = nil
        s.alerts[i].ackNote = nil
        s.alerts[i].expiredAckBy = "Sam Patel"
        s.alerts[i].ackExpiredAt = Fixtures.t0 - .minutes(5)
        let text = render(DashboardController(driver: FakeDriver(s)), 200, 50).text
        #expect(text.contains("(3 not acked)"))
        let row = text.split(separator: "\n").first { $0.contains("handover_queue") }.map(String.init) ?? ""
        #expect(row.contains("ack expired 5m ago: Sam Patel"), "\(row)")
        let plain = PlainRenderer.alertLine(s.alerts[i], siteName: "Lister Hospital", now: s.now)
        #expect(plain.contains("| not acknowledged (the acknowledgement by Sam Patel expired at "), "\(plain)")
    }
}
