import Testing
import FlowCore
@testable import FlowTerminal

/// urgentflow's own "Notifier ... failing" alerts in the alert panel: one per failing notifier,
/// all with the rule `notifier_failing` and the site SYSTEM.
@Suite struct NotifierAlertTests {
    /// The fixture's snapshot with the alerts the live overlay adds when the pager, the
    /// webhook and Alertmanager all keep failing (for three hours: the oldest, at the top).
    static func snapshotWithFailingNotifiers(_ names: [String] = ["alertmanager", "pager", "webhook"]) -> DashboardSnapshot {
        var s = Fixtures.snapshot(replay: nil)
        let own = names.map { n in
            AlertSnapshot(rule: "notifier_failing", site: systemSiteCode, severity: .critical, state: .firing, value: 3,
                          summary: "Notifier \(n) failing 3 times in a row (2 pending): connection refused",
                          since: Fixtures.t0 - .hours(3), leadID: nil, leadName: nil, acknowledgedBy: nil, acknowledgedAt: nil,
                          ackNote: nil, notifier: n)
        }
        s.alerts.insert(contentsOf: own, at: 0)
        return s
    }

    @Test("j and k move row by row through the notifiers' own alerts, which share a rule and site")
    func selectionMovesThroughEveryNotifierAlert() {
        let c = DashboardController(driver: FakeDriver(Self.snapshotWithFailingNotifiers()))
        c.handle(.tab)
        #expect(c.selectedAlertIndex == 0)
        #expect(c.visibleAlerts.prefix(3).map(\.notifier) == ["alertmanager", "pager", "webhook"])
        var seen: [Int?] = []
        for _ in 0..<5 {
            c.handle(.char("j"))
            seen.append(c.selectedAlertIndex)
        }
        #expect(seen == [1, 2, 3, 4, 5])
        c.handle(.char("k")); c.handle(.char("k")); c.handle(.char("k"))
        #expect(c.selectedAlertIndex == 2)
        #expect(c.state.selectedAlert == AlertID(rule: "notifier_failing", site: systemSiteCode, notifier: "webhook"))
        c.handle(.down)
        #expect(c.visibleAlerts[c.selectedAlertIndex ?? -1].rule == "ga_occupancy_high")
        // The selection marker is drawn on one row only.
        let rows = render(c, 120, 36).text.split(separator: "\n").filter { $0.contains("failing 3 times") }
        #expect(rows.count == 3)
        #expect(rows.filter { $0.contains("▶") || $0.contains(">") }.isEmpty, "the cursor is on Lister's alert, not on a notifier's")
    }

    @Test("the selection stays on the same notifier's alert when another notifier's clears")
    func selectionFollowsItsNotifier() {
        let d = FakeDriver(Self.snapshotWithFailingNotifiers())
        let c = DashboardController(driver: d)
        c.handle(.tab)
        c.handle(.char("j"))
        #expect(c.state.selectedAlert?.notifier == "pager")
        d.push { $0.alerts.removeAll { $0.notifier == "alertmanager" } }
        c.tick()
        #expect(c.state.selectedAlert?.notifier == "pager")
        #expect(c.selectedAlertIndex == 0)
    }
}

/// `a` and `s` on urgentflow's own notifier alerts: nobody's to acknowledge or silence.
@Suite struct OwnAlertTests {
    @Test("a and s on a notifier's own alert say it clears when deliveries succeed, and send nothing")
    func ownAlertsAreNotAcknowledged() {
        let d = FakeDriver(NotifierAlertTests.snapshotWithFailingNotifiers())
        let c = DashboardController(driver: d)
        c.handle(.tab)
        c.handle(.char("j")) // the pager's
        c.handle(.char("a"))
        #expect(c.state.ack == nil, "no prompt")
        #expect(c.state.message == "Nothing to acknowledge: urgentflow's own alert; it clears when a delivery to pager succeeds")
        c.handle(.char("s"))
        #expect(c.state.ack == nil)
        #expect(c.state.message?.hasPrefix("Nothing to silence: urgentflow's own alert") == true)
        #expect(d.commands.isEmpty)
        #expect(render(c, 120, 36).text.contains("clears when a delivery to pager succeeds"))
    }

    @Test("Enter on a notifier's own alert says where its detail is, and opens no empty site page")
    func enterOnOwnAlertSaysWhereItsDetailIs() {
        let c = DashboardController(driver: FakeDriver(NotifierAlertTests.snapshotWithFailingNotifiers()))
        c.handle(.tab)
        c.handle(.char("j")) // the pager's
        c.handle(.enter)
        #expect(c.state.detailSite == nil)
        #expect(c.state.message == "urgentflow's own alert: deliveries to pager keep failing (urgentflow.log says why); it clears when one succeeds")
        c.handle(.char("j")); c.handle(.char("j")) // a rule's alert: Enter opens its site
        c.handle(.enter)
        #expect(c.state.detailSite != nil)
    }

    @Test("the notifiers' own alerts are not counted as not acknowledged, and their rows say they clear on delivery")
    func ownAlertsAreNotCountedAsUnacknowledged() {
        let c = DashboardController(driver: FakeDriver(NotifierAlertTests.snapshotWithFailingNotifiers()))
        let text = render(c, 120, 36).text
        // Lister's occupancy and 111's answering, as without the notifiers' alerts.
        #expect(text.contains("Alerts 7 (2 not acked)"), "\(text)")
        let rows = text.split(separator: "\n").filter { $0.contains("failing 3 times") }
        #expect(rows.count == 3 && rows.allSatisfy { $0.contains("clears on delivery") && !$0.contains("not acked") })
        let plain = PlainRenderer.lines(NotifierAlertTests.snapshotWithFailingNotifiers(), paused: false)
        let own = plain.filter { $0.0.hasPrefix("alert:notifier_failing") }
        #expect(own.map(\.0) == ["alert:notifier_failing@SYSTEM/alertmanager", "alert:notifier_failing@SYSTEM/pager",
                                 "alert:notifier_failing@SYSTEM/webhook"])
        #expect(own.allSatisfy { $0.1.contains("clears when a delivery to") && !$0.1.contains("not acknowledged") })
    }
}
