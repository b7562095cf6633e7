import FlowCore
import Testing
@testable import FlowTerminal

/// Fixes from the dashboard's user test (README, "Not done yet"): what the screen says, at the
/// sizes people use.

/// The row of the alert panel's title (the box line that starts with "Alerts").
private func alertsTitleRow(_ g: CellGrid) -> String? {
    (0..<g.height).map { g.row($0) }.first { $0.contains(" Alerts ") && ($0.contains("─") || $0.contains("-")) }
}

private func typeFilter(_ c: DashboardController, _ text: String) {
    c.handle(.char("/"))
    for ch in text { c.handle(.char(ch)) }
    c.handle(.enter)
}

@Suite struct AlertFilterNoteTests {
    @Test("the alert panel says a filter is on and how many alerts it hides, at every size",
          arguments: [(60, 20), (80, 24), (120, 40), (200, 50)])
    func theFilterAndWhatItHidesAreOnThePanel(size: (Int, Int)) throws {
        let c = DashboardController(driver: FakeDriver())
        typeFilter(c, "lister")
        #expect(c.visibleAlerts.count == 2)
        let g = render(c, size.0, size.1)
        let title = try #require(alertsTitleRow(g))
        #expect(title.contains("filter: lister (2 hidden)"), "\(title)")
        // A message on the status line does not hide it.
        c.handle(.char("a"))
        c.handle(.escape)
        #expect(try #require(alertsTitleRow(render(c, size.0, size.1))).contains("(2 hidden)"))
    }

    @Test("a filter that hides every alert says how many, not only that nothing matches")
    func aFilterHidingEveryAlertSaysHowMany() throws {
        let c = DashboardController(driver: FakeDriver())
        typeFilter(c, "RQW")
        #expect(c.visibleAlerts.isEmpty)
        let g = render(c, 80, 24)
        let title = try #require(alertsTitleRow(g))
        #expect(title.contains("Alerts 0"))
        #expect(title.contains("filter: RQW (4 hidden)"), "\(title)")
        #expect(g.text.contains("No alert matches the filter \"RQW\" (4 hidden)"))
    }

    @Test("a long filter is cut on the panel, never the hidden count")
    func aLongFilterKeepsTheHiddenCount() throws {
        let c = DashboardController(driver: FakeDriver())
        typeFilter(c, "hospital-lister-stevenage-and-more-words")
        let g = render(c, 60, 20)
        let title = try #require(alertsTitleRow(g))
        #expect(title.contains("(4 hidden)"), "\(title)")
        #expect(title.contains("filter: hospital"), "\(title)")
    }

    @Test("without a filter the panel's title is as before")
    func noFilterNoNote() throws {
        let c = DashboardController(driver: FakeDriver())
        let title = try #require(alertsTitleRow(render(c, 80, 24)))
        #expect(!title.contains("filter"))
        #expect(title.contains("Alerts 4 (2 not acked)"))
    }
}

@Suite struct DetailRangeTests {
    /// Lister's G&A occupancy sampled at 90% for the last six hours, now 97.3%, the last sample
    /// ten minutes old.
    static func driver(historyEnd: EventTime?) -> FakeDriver {
        let d = FakeDriver()
        let i = d.current.sites.firstIndex { $0.code == "RWH" }!
        let k = d.current.sites[i].metrics.firstIndex { $0.key == .gaOccupancyPct }!
        d.current.sites[i].metrics[k].history = Array(repeating: 90, count: 24)
        d.current.sites[i].metrics[k].historyEnd = historyEnd
        return d
    }

    @Test("the range shown and the sparkline's last point include the current value", arguments: [(120, 40), (200, 50)])
    func currentValueIsInTheRangeAndTheSparkline(size: (Int, Int)) throws {
        let c = DashboardController(driver: Self.driver(historyEnd: Fixtures.t0 - .minutes(10)))
        c.handle(.enter)
        #expect(c.state.detailSite == "RWH")
        let g = render(c, size.0, size.1)
        let y = try #require((0..<g.height).first { g.row($0).contains("G&A occ ") && g.row($0).contains("97.3%") })
        let row = g.row(y)
        #expect(row.contains("90%–97.3%"), "\(row)")
        // The sparkline's last cell is the current value, beyond the critical level.
        let last = try #require((0..<g.width).last { GlyphSet.unicodeSet.spark.contains(g[$0, y].text) })
        #expect(g[last, y].role == .critical)
        #expect(g[last, y].text == GlyphSet.unicodeSet.spark.last)
        #expect(g[last - 1, y].role != .critical)
    }

    @Test("a value sampled at the last sample is not drawn twice; the range still holds it")
    func sampledNowIsNotAppended() throws {
        let c = DashboardController(driver: Self.driver(historyEnd: Fixtures.t0))
        c.handle(.enter)
        let g = render(c, 120, 40)
        let y = try #require((0..<g.height).first { g.row($0).contains("G&A occ ") && g.row($0).contains("97.3%") })
        #expect(g.row(y).contains("90%–97.3%"))
        #expect(!(0..<g.width).contains { GlyphSet.unicodeSet.spark.contains(g[$0, y].text) && g[$0, y].role == .critical })
    }
}

@Suite struct AlertForColumnTests {
    /// Lister's occupancy alert went pending 2h05m ago and fired 1h50m ago; a pending alert at
    /// the Princess Alexandra went pending 12 minutes ago.
    static func driver() -> FakeDriver {
        let d = FakeDriver()
        let i = d.current.alerts.firstIndex { $0.rule == "ga_occupancy_high" }!
        d.current.alerts[i].firedAt = Fixtures.t0 - .minutes(110)
        d.current.alerts.append(AlertSnapshot(rule: "dtoc_share_high", site: "RQW", severity: .warning, state: .pending, value: 21,
                                              summary: "DToC share 21%", since: Fixtures.t0 - .minutes(12), leadID: nil,
                                              leadName: nil, acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil))
        return d
    }

    @Test("For counts a firing alert from when it fired, a pending one from when it went pending",
          arguments: [(80, 24), (120, 40), (200, 50)])
    func forCountsFromFiring(size: (Int, Int)) throws {
        let c = DashboardController(driver: Self.driver())
        let g = render(c, size.0, size.1)
        let occ = try #require((0..<g.height).map { g.row($0) }.first { $0.contains("G&A occupancy") || $0.contains("G&A occ 97.3%") })
        #expect(occ.contains("1h50"), "\(occ)")
        #expect(!occ.contains("2h05"), "\(occ)")
        let pend = try #require((0..<g.height).map { g.row($0) }.first { $0.contains("DToC share 21%") })
        #expect(pend.contains("pend"), "\(pend)")
        #expect(pend.contains("12m"), "\(pend)")
    }
}

@Suite struct SiteCauseTests {
    /// The Princess Alexandra at WARN from its DToC share alone (every metric its row shows is
    /// OK), or from a firing trend alert alone.
    static func driver(dtocShare: Bool) -> FakeDriver {
        let d = FakeDriver()
        let i = d.current.sites.firstIndex { $0.code == "RQW" }!
        for k in d.current.sites[i].metrics.indices { d.current.sites[i].metrics[k].status = .ok }
        if dtocShare {
            d.current.sites[i].metrics.append(Fixtures.reading(.dtocSharePct, 13.6, .warning, warn: 12, crit: 15))
        } else {
            d.current.alerts.append(AlertSnapshot(rule: "ga_occupancy_trend", site: "RQW", severity: .warning, state: .firing,
                                                  value: 91, summary: "G&A occ rising", since: Fixtures.t0 - .minutes(30),
                                                  leadID: nil, leadName: nil, acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil))
        }
        return d
    }

    static func row(_ g: CellGrid, _ name: String) -> String? {
        (0..<g.height).map { g.row($0) }.first { $0.contains(name) && ($0.contains("WARN") || $0.contains("CRIT") || $0.contains("OK")) }
    }

    @Test("a site at WARN from a metric its row does not show says which", arguments: [(80, 24), (120, 40), (200, 50)])
    func theRowSaysWhyWhenNoColumnDoes(size: (Int, Int)) throws {
        let c = DashboardController(driver: Self.driver(dtocShare: true))
        let g = render(c, size.0, size.1)
        let row = try #require(Self.row(g, "Princess"))
        #expect(row.contains("WARN"))
        #expect(row.contains(size.0 < 120 ? "DToC%" : "DToC share"), "\(row)")
        #expect(g.text.contains("Why"))
        // Lister's CRIT is its G&A occupancy, in its row: no cause said.
        let lister = try #require(Self.row(g, "Lister"))
        #expect(!lister.contains("DToC%") && !lister.contains("DToC share") && !lister.contains("ga_"), "\(lister)")
        // At 80 columns the Why column takes the last metric column's room, not the names'.
        if size.0 == 80 { #expect(g.text.contains("HO>60") && row.contains("Princess Alexandra"), "\(row)") }
    }

    @Test("a site at WARN from a firing rule whose metric is not at WARN names the rule", arguments: [(80, 24), (200, 50)])
    func theRowNamesTheRule(size: (Int, Int)) throws {
        let c = DashboardController(driver: Self.driver(dtocShare: false))
        let g = render(c, size.0, size.1)
        let row = try #require(Self.row(g, "Princess"))
        #expect(row.contains(size.0 < 120 ? "ga_occu" : "ga_occupancy_trend"), "\(row)")
    }

    @Test("without a hidden cause the table has no Why column")
    func noCauseNoColumn() {
        let g = render(DashboardController(driver: FakeDriver()), 80, 24)
        #expect(!g.text.contains("Why"))
    }

    @Test("a 111 unit at WARN shows its metrics at WARN first, where the row's end cut them")
    func chipsAtTheStatusComeFirst() throws {
        let d = FakeDriver()
        let i = d.current.sites.firstIndex { $0.code == "HUC" }!
        // The WARN is the last metric's: Amb+ED disposition share.
        for k in d.current.sites[i].metrics.indices { d.current.sites[i].metrics[k].status = .ok }
        let k = d.current.sites[i].metrics.firstIndex { $0.key == .nhs111UrgentDispositionPct }!
        d.current.sites[i].metrics[k].value = 24.3
        d.current.sites[i].metrics[k].status = .warning
        let g = render(DashboardController(driver: d), 80, 24)
        let row = try #require(Self.row(g, "Herts Urgent"))
        #expect(row.contains("Amb+ED disp 24.3%"), "\(row)")
    }
}

@Suite struct WideAlertPanelTests {
    /// The 111 unit's ED and ambulance share rule (the longest id of the bundled configuration),
    /// and a long site name.
    static func driver(notes: Bool) -> FakeDriver {
        let d = FakeDriver()
        d.current.sites[0].name = "Lister Hospital Stevenage East Herts"
        if !notes { for i in d.current.alerts.indices { d.current.alerts[i].ackNote = nil } }
        d.current.alerts.append(AlertSnapshot(rule: "nhs111_ed_ambulance_share", site: "HUC", severity: .warning,
                                              state: .firing, value: 26, summary: "Amb+ED disp 26% (warning at 24%)",
                                              since: Fixtures.t0 - .minutes(50), leadID: nil, leadName: nil,
                                              acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil))
        return d
    }

    static func row(_ g: CellGrid, _ text: String) -> String? { (0..<g.height).map { g.row($0) }.first { $0.contains(text) } }

    @Test("at 200 columns a long rule id is shown whole, and an acknowledgement's note still goes with the alert's text")
    func wideScreensShowTheWholeRuleId() throws {
        let g = render(DashboardController(driver: Self.driver(notes: true)), 200, 50)
        let row = try #require(Self.row(g, "Amb+ED disp 26%"))
        #expect(row.contains("nhs111_ed_ambulance_share "), "\(row)")
        #expect(row.contains("Amb+ED disp 26% (warn"), "\(row)")
        #expect(try #require(Self.row(g, "9 ambulances waiting")).contains("| note: HALO deployed"))
    }

    @Test("at 200 columns a long site name is shown whole where the alerts' text leaves room")
    func wideScreensShowTheWholeSiteName() throws {
        let g = render(DashboardController(driver: Self.driver(notes: false)), 200, 50)
        let lister = try #require(Self.row(g, "9 ambulances waiting"))
        #expect(lister.contains("Lister Hospital Stevenage East Herts"), "\(lister)")
        #expect(try #require(Self.row(g, "Amb+ED disp 26%")).contains("nhs111_ed_ambulance_share "))
    }

    @Test("at 80 and 120 columns the columns are as before", arguments: [(80, 24), (120, 40)])
    func narrowerScreensKeepTheirColumns(size: (Int, Int)) {
        #expect(AlertPanelWidget.Layout(width: size.0 - 2, showSite: true, ruleWant: 32, siteWant: 40, whatWant: 20)
                == AlertPanelWidget.Layout(width: size.0 - 2, showSite: true))
    }
}
