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
