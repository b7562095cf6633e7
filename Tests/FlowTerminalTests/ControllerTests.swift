import Testing
import FlowCore
@testable import FlowTerminal

@Suite struct ControllerTests {
    @Test func helpOverlayListsEveryKeyOfTheKeyTable() {
        let c = DashboardController(driver: FakeDriver())
        c.handle(.char("?"))
        #expect(c.state.showHelp)
        for (w, h) in [(80, 24), (120, 40), (200, 50)] {
            let text = render(c, w, h).text
            for b in KeyMap.bindings {
                #expect(text.contains(b.keyLabel), "help at \(w)x\(h) lacks \(b.keyLabel)")
            }
        }
        // The overlay lists the bindings live where it is opened: on the dashboard ...
        let text = render(c, 200, 50).text
        for b in KeyMap.bindings(in: c.activeContexts) { #expect(text.contains(b.help), "help lacks \(b.help)") }
        #expect(!text.contains("previous site"))
        // ... and in the site detail, where the arrows mean something else.
        c.handle(.escape)
        c.handle(.enter)
        c.handle(.char("?"))
        let detail = render(c, 200, 50).text
        for b in KeyMap.bindings(in: c.activeContexts) { #expect(detail.contains(b.help), "detail help lacks \(b.help)") }
        #expect(detail.contains("previous site"))
        #expect(!detail.contains("focus alerts"))
        c.handle(.escape)
        #expect(!c.state.showHelp)
    }

    @Test func helpAtTheSmallestSizeStillListsEveryKey() {
        let c = DashboardController(driver: FakeDriver())
        c.handle(.char("?"))
        let text = render(c, 60, 20).text
        for b in KeyMap.bindings { #expect(text.contains(b.keys[0].label), "lacks \(b.keys[0].label)") }
    }

    @Test func dispatcherUsesTheKeyTable() {
        // Every binding of the table dispatches to its action in one of its contexts.
        for b in KeyMap.bindings {
            for k in b.keys {
                #expect(KeyMap.action(for: k, in: b.contexts) == b.action)
            }
        }
        #expect(KeyMap.action(for: .char("+"), in: [.global, .dashboard]) == nil) // replay only
        #expect(KeyMap.action(for: .char("z"), in: Set(KeyContext.allCases)) == nil)
    }

    @Test func navigationMovesSelectionAndTabSwitchesFocus() {
        let c = DashboardController(driver: FakeDriver())
        #expect(c.state.selectedSite == "RWH")
        c.handle(.down)
        c.handle(.char("j"))
        #expect(c.state.selectedSite == "RQW")
        c.handle(.char("k"))
        #expect(c.state.selectedSite == "RWG")
        c.handle(.char("G"))
        #expect(c.state.selectedSite == "EEAST")
        c.handle(.tab)
        #expect(c.state.focus == .alerts)
        c.handle(.char("j"))
        #expect(c.state.selectedAlert == AlertID(rule: "handover_queue", site: "RWH"))
        let g = render(c, 120, 40)
        let row = (0..<g.height).first { g.row($0).contains("9 ambulances waiting") }!
        #expect(g.row(row).hasPrefix("│▶"))
    }

    @Test func selectionFollowsTheSiteWhenTheListReorders() {
        let d = FakeDriver()
        let c = DashboardController(driver: d)
        c.handle(.down) // Watford
        d.push { $0.sites.reverse() }
        #expect(c.tick())
        #expect(c.state.selectedSite == "RWG")
    }

    @Test func enterOpensDetailWithHistoryThresholdsAndAlerts() {
        let c = DashboardController(driver: FakeDriver())
        c.handle(.enter)
        #expect(c.state.detailSite == "RWH")
        let g = render(c, 120, 40)
        let text = g.text
        #expect(text.contains("Lister Hospital (RWH)"))
        #expect(text.contains("OPEL auto 4"))
        #expect(text.contains("declared 3"))
        #expect(text.contains("≠ differ"))
        #expect(text.contains("W≥92% C≥95%"))
        #expect(text.contains("W≤78% C≤70%"))  // lower is worse for 4h performance
        #expect(text.contains("History, last 6h → now"))
        #expect(text.contains("Range shown"))
        #expect(text.contains("Last data:"))
        #expect(text.contains("Alerts at Lister Hospital 2"))
        #expect(text.contains("9 ambulances waiting"))
        #expect(!text.contains("answered_60s_low"))  // another site's alert
        // History points beyond the critical level are marked with the critical role.
        let occRow = (0..<g.height).first { g.row($0).contains("G&A occ") && g.row($0).contains("97.3%") }!
        let rowCells = (0..<g.width).map { g[$0, occRow] }
        #expect(rowCells.contains { $0.role == .critical && Format.sparkline([1], width: 1, glyphs: .unicodeSet).count == 1 && GlyphSet.unicodeSet.spark.contains($0.text) })
        c.handle(.escape)
        #expect(c.state.detailSite == nil)
    }

    @Test func detailAtSmallSizesStillShowsMetrics() {
        let c = DashboardController(driver: FakeDriver())
        c.handle(.char("j"))
        c.handle(.enter)
        for (w, h) in allSizes {
            let text = render(c, w, h).text
            #expect(text.contains("Watford"))
            #expect(text.contains("G&A occ"))
            #expect(text.contains("? n/a"))
        }
        c.handle(.char("l"))
        #expect(c.state.detailSite == "RQW")
    }

    @Test func filterNarrowsSitesAndAlertsAndEscClears() {
        let c = DashboardController(driver: FakeDriver())
        c.handle(.char("/"))
        for ch in "list" { c.handle(.char(ch)) }
        var g = render(c, 120, 40)
        #expect(g.row(39).contains("Filter: /list"))
        c.handle(.enter)
        #expect(!c.state.editingFilter)
        #expect(c.visibleSites.map(\.code) == ["RWH"])
        #expect(c.visibleAlerts.allSatisfy { $0.site == "RWH" })
        g = render(c, 120, 40)
        #expect(g.text.contains("filter: list"))
        #expect(!g.text.contains("Watford"))
        #expect(!g.text.contains("answered_60s_low"))
        c.handle(.escape)
        #expect(c.state.filter.isEmpty)
        #expect(c.visibleSites.count == 6)
    }

    /// A site page lists all its site's alerts, the filter not applied: the status line counted
    /// the page's list ("0 sites, 6 alerts" where the dashboard had said 2; the dashboard user
    /// test). It counts the dashboard's, and says the page shows all.
    @Test func aSitePageCountsTheFilterAsTheDashboardDoes() {
        let c = DashboardController(driver: FakeDriver())
        c.handle(.char("/"))
        for ch in "handover" { c.handle(.char(ch)) }
        c.handle(.enter)
        #expect(c.filteredAlerts.map(\.rule) == ["handover_queue"])
        let main = render(c, 120, 40).row(39)
        #expect(main.contains("[filter: handover  0 sites, 1 alert]"), "\(main)")
        // Lister's page, opened from the alert: both its alerts listed, the dashboard's count kept.
        c.handle(.char("l"))
        c.handle(.enter)
        #expect(c.state.detailSite == "RWH")
        #expect(c.visibleAlerts.map(\.rule) == ["ga_occupancy_high", "handover_queue"])
        let page = render(c, 120, 40).row(39)
        #expect(page.contains("[filter: handover  0 sites, 1 alert; this page shows all the site's]"), "\(page)")
    }

    @Test func filterWithNoMatchSaysSo() {
        let c = DashboardController(driver: FakeDriver())
        c.handle(.char("/"))
        for ch in "zzz" { c.handle(.char(ch)) }
        let text = render(c, 80, 24).text
        #expect(text.contains("No site matches the filter"))
        c.handle(.escape)
        #expect(c.state.filter.isEmpty && !c.state.editingFilter)
    }

    @Test func pauseFreezesTheViewButNavigationWorks() {
        let d = FakeDriver()
        let c = DashboardController(driver: d)
        c.handle(.char(" "))
        #expect(c.state.paused)
        #expect(d.commands.last == .setPaused(true))
        d.push { $0.sites[0].name = "CHANGED" }
        #expect(!c.tick())
        #expect(d.advanceCount == 1) // the source is still driven while paused
        var g = render(c, 80, 24)
        #expect(g.row(0).contains("PAUSED"))
        #expect(g.roles(of: "PAUSED").contains(.paused))
        #expect(!g.text.contains("CHANGED"))
        c.handle(.down)
        #expect(c.state.selectedSite == "RWG")
        c.handle(.char(" "))
        #expect(d.commands.last == .setPaused(false))
        g = render(c, 80, 24)
        #expect(!g.row(0).contains("PAUSED"))
        #expect(g.text.contains("CHANGED"))
    }

    @Test func replayKeysSendDriverCommandsOnlyInReplay() {
        let d = FakeDriver()
        let c = DashboardController(driver: d)
        c.handle(.char("+"))
        c.handle(.char("-"))
        c.handle(.char("."))
        c.handle(.char("n"))
        c.handle(.char("["))
        c.handle(.char("]"))
        c.handle(.char("{"))
        #expect(d.commands == [.faster, .slower, .stepEvent, .nextAlertTransition, .jump(.hours(-1)), .jump(.hours(1)), .rewindToStart])
        let live = FakeDriver(Fixtures.snapshot(replay: nil))
        let lc = DashboardController(driver: live)
        #expect(lc.handle(.char("+")) == .ignored)
        #expect(lc.handle(.char("[")) == .ignored)
        #expect(live.commands.isEmpty)
        #expect(!render(lc, 80, 24).row(0).contains("REPLAY"))
    }

    @Test func speedChangeShowsEvenWhilePaused() {
        let d = FakeDriver()
        let c = DashboardController(driver: d)
        c.handle(.char(" "))
        c.handle(.char("+"))
        #expect(render(c, 80, 24).row(0).contains("×120"))
    }

    @Test func acknowledgePromptAsksWhoAndNote() {
        let d = FakeDriver()
        let c = DashboardController(driver: d)
        c.handle(.tab) // alerts: first is ga_occupancy_high at RWH
        c.handle(.char("a"))
        #expect(c.state.ack?.alert == AlertID(rule: "ga_occupancy_high", site: "RWH"))
        var text = render(c, 80, 24).text
        #expect(text.contains("Acknowledge ga_occupancy_high at Lister"))
        #expect(text.contains("Who:"))
        c.handle(.enter) // empty name refused
        #expect(c.state.ack?.field == .who)
        for ch in "Jo Bloggs" { c.handle(.char(ch)) }
        c.handle(.enter)
        #expect(c.state.ack?.field == .note)
        for ch in "extra beds open" { c.handle(.char(ch)) }
        c.handle(.enter)
        #expect(c.state.ack == nil)
        #expect(d.commands.last == .acknowledge(rule: "ga_occupancy_high", site: "RWH", by: "Jo Bloggs", note: "extra beds open"))
        text = render(c, 200, 50).text
        #expect(text.contains("ack Jo Bloggs"))
        #expect(text.contains("Acknowledged ga_occupancy_high at RWH by Jo Bloggs"))
    }

    @Test func silencePromptAsksWhoForHowLongAndWhy() {
        let d = FakeDriver()
        let c = DashboardController(driver: d)
        c.handle(.tab) // alerts: first is ga_occupancy_high at RWH
        c.handle(.char("s"))
        #expect(c.state.ack?.purpose == .silence)
        let text = render(c, 80, 24).text
        #expect(text.contains("Silence notifications of ga_occupancy_high"))
        #expect(text.contains("For:  2h"))
        for ch in "Sam Reid" { c.handle(.char(ch)) }
        c.handle(.enter)
        #expect(c.state.ack?.field == .duration)
        c.handle(.backspace); c.handle(.backspace)
        for ch in "soon" { c.handle(.char(ch)) }
        c.handle(.enter)
        #expect(c.state.ack?.field == .duration, "a duration that does not parse is refused")
        for _ in 0..<4 { c.handle(.backspace) }
        for ch in "90m" { c.handle(.char(ch)) }
        c.handle(.enter)
        #expect(c.state.ack?.field == .note)
        c.handle(.enter)
        #expect(c.state.ack != nil, "a silence needs a reason")
        for ch in "diverting to Watford" { c.handle(.char(ch)) }
        c.handle(.enter)
        #expect(c.state.ack == nil)
        #expect(d.commands.last == .silence(rule: "ga_occupancy_high", site: "RWH", by: "Sam Reid", duration: .minutes(90),
                                            reason: "diverting to Watford"))
        #expect(render(c, 200, 50).text.contains("silenced 1h30 by Sam Reid"))
    }

    @Test func acknowledgeCanBeCancelledAndNeedsAnAlert() {
        let d = FakeDriver(Fixtures.snapshot())
        let c = DashboardController(driver: d)
        c.handle(.char("a")) // focus on sites: Lister's unacknowledged alert
        #expect(c.state.ack?.alert.site == "RWH")
        c.handle(.char("x"))
        c.handle(.escape)
        #expect(c.state.ack == nil)
        #expect(!d.commands.contains { if case .acknowledge = $0 { return true }; return false })
        var s = Fixtures.snapshot()
        s.alerts = []
        let c2 = DashboardController(driver: FakeDriver(s))
        c2.handle(.char("a"))
        #expect(c2.state.ack == nil)
        #expect(render(c2, 80, 24).text.contains("No alert selected"))
    }

    @Test func quitKey() {
        let c = DashboardController(driver: FakeDriver())
        #expect(c.handle(.char("q")) == .quit)
    }
}
