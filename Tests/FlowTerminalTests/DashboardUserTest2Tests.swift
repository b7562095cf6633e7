import FlowCore
import Testing
@testable import FlowTerminal

/// Fixes from the second user test of the dashboard (replays at 80x24 and 100x30).

/// Lister (RWH) with `>12h share` appended as its last metric, as the bundled scenarios have it.
private func listerWithTwelveHourShare() -> FakeDriver {
    let d = FakeDriver()
    let i = d.current.sites.firstIndex { $0.code == "RWH" }!
    d.current.sites[i].metrics.append(Fixtures.reading(.edOver12hSharePct, 4.2, .warning, warn: 2, crit: 5))
    return d
}

@Suite struct DetailScrollTests {
    /// The rows of the metrics box (the box that starts with Lister's name), top to bottom.
    static func metricsBox(_ g: CellGrid) -> [String] {
        let rows = (0..<g.height).map { g.row($0) }
        guard let top = rows.firstIndex(where: { $0.contains("Lister Hospital (RWH)") }),
              let bottom = rows[(top + 1)...].firstIndex(where: { $0.hasPrefix("└") }) else { return [] }
        return Array(rows[top...bottom])
    }

    @Test("G on the site page brings the last metric into view, with a ▲ marker", arguments: [(80, 18), (80, 24), (100, 20)])
    func endShowsTheLastMetric(size: (Int, Int)) throws {
        let c = DashboardController(driver: listerWithTwelveHourShare())
        c.handle(.enter)
        #expect(c.state.detailSite == "RWH")
        let before = Self.metricsBox(render(c, size.0, size.1))
        c.handle(.char("G"))
        let box = Self.metricsBox(render(c, size.0, size.1))
        let last = try #require(box.first { $0.contains(">12h share") }, "\(box.joined(separator: "\n"))")
        #expect(last.contains("▶"), "the selected row is the one shown: \(last)")
        if before.contains(where: { $0.contains("▼") }) {
            // It scrolled: the marker says there is more above, none below.
            #expect(box.contains { $0.hasSuffix("▲") })
            #expect(!box.contains { $0.hasSuffix("▼") })
        }
    }

    @Test("j one row at a time and PgDn keep the selected metric in view, and the box says there is more")
    func movingKeepsTheSelectionInView() throws {
        let c = DashboardController(driver: listerWithTwelveHourShare())
        c.handle(.enter)
        let count = c.snapshot.sites.first { $0.code == "RWH" }!.metrics.count
        var g = render(c, 80, 18)
        #expect(Self.metricsBox(g).contains { $0.hasSuffix("▼") }, "more below at first")
        #expect(!Self.metricsBox(g).contains { $0.hasSuffix("▲") })
        for _ in 1..<count {
            c.handle(.char("j"))
            g = render(c, 80, 18)
            #expect(Self.metricsBox(g).contains { $0.contains("▶") }, "row \(c.state.detailScroll) selected but not shown")
        }
        #expect(Self.metricsBox(g).contains { $0.contains(">12h share") })
        c.handle(.char("g"))
        c.handle(.pageDown)
        #expect(Self.metricsBox(render(c, 80, 18)).contains { $0.contains("▶") })
    }
}

@Suite struct NameRoomBesideWhyTests {
    /// The bundled system's two Hertfordshire trusts, and the Princess Alexandra at WARN from its
    /// DToC share alone (the Why column appears).
    static func driver() -> FakeDriver {
        let d = FakeDriver()
        d.current.sites.insert(SiteSnapshot(code: "HPFT", name: "Hertfordshire Partnership FT", kind: .mentalHealth, status: .ok,
                                            opelLevel: 2, opelScore: nil, declaredOpel: nil,
                                            metrics: [Fixtures.reading(.gaOccupancyPct, 90, .ok)], staleFeeds: [], lastSeen: [:]),
                               at: 4)
        let i = d.current.sites.firstIndex { $0.code == "RQW" }!
        for k in d.current.sites[i].metrics.indices { d.current.sites[i].metrics[k].status = .ok }
        d.current.sites[i].metrics.append(Fixtures.reading(.dtocSharePct, 13.6, .warning, warn: 12, crit: 15))
        return d
    }

    /// The name cell of the site table's row holding `text` (between the row's mark and the status).
    static func nameCell(_ g: CellGrid, _ text: String) -> String? {
        guard let row = (0..<g.height).map({ g.row($0) }).first(where: { $0.contains(text) && $0.hasPrefix("│") }) else { return nil }
        let statusAt = ["✔ OK", "▲ WARN", "✖ CRIT", "? n/a"].compactMap { row.range(of: $0)?.lowerBound }.min() ?? row.endIndex
        return String(row[row.index(row.startIndex, offsetBy: 2)..<statusAt]).trimmingCharacters()
    }

    @Test("beside a Why column the names keep their room and stay distinguishable", arguments: [(60, 20), (80, 24), (100, 30)])
    func namesKeepTheirRoom(size: (Int, Int)) throws {
        let g = render(DashboardController(driver: Self.driver()), size.0, size.1)
        #expect(g.text.contains("Why"))
        let community = try #require(Self.nameCell(g, "Hertfordshire Co"), "\(g.text)")
        let partnership = try #require(Self.nameCell(g, "Hertfordshire Pa"), "\(g.text)")
        #expect(community != partnership)
        let princess = try #require(Self.nameCell(g, "Princess"))
        #expect(princess.hasPrefix("Princess Alexandra"), "\(princess)")
        // As much room as without the Why column (16 columns at 60, 18 at 80), up to 22.
        let plain = SiteGridWidget.layout(SiteGridWidget.columns(forWidth: size.0), inner: size.0 - 2)
        let floor = min(22, plain.first { $0.kind == .name }!.width)
        let (cols, _) = SiteGridWidget.columns(forWidth: size.0, inner: size.0 - 2, sites: Self.driver().current.sites,
                                               alerts: Self.driver().current.alerts)
        #expect(cols.contains { $0.kind == .cause })
        #expect(cols.first { $0.kind == .name }!.width >= floor)
    }
}

@Suite struct StaleCauseTests {
    /// Watford at WARN from its Beds feed alone: every metric it has is OK, and stale_bed fires.
    static func driver(feed: FeedKind = .bed) -> FakeDriver {
        let d = FakeDriver()
        let i = d.current.sites.firstIndex { $0.code == "RWG" }!
        for k in d.current.sites[i].metrics.indices where d.current.sites[i].metrics[k].value != nil {
            d.current.sites[i].metrics[k].status = .ok
        }
        d.current.sites[i].metrics.removeAll { $0.value == nil }
        d.current.sites[i].status = .warning
        d.current.sites[i].staleFeeds = [feed]
        d.current.alerts.removeAll { $0.site == "RWG" }
        var stale = AlertSnapshot(rule: "stale_" + feed.rawValue, site: "RWG", severity: .warning, state: .firing, value: 125,
                                  summary: "No \(feed.label) data from Watford General Hospital for 2h05 (expected every 2h)",
                                  since: Fixtures.t0 - .minutes(5), leadID: nil, leadName: nil,
                                  acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil)
        stale.cause = .stale(feed)
        d.current.alerts.append(stale)
        return d
    }

    /// A trend rule's early warning alone: its cause was said by its rule id (the helper's note
    /// after the dashboard user test), now as its metric's trend.
    @Test("a site at WARN from a trend rule's early warning says the metric's trend, not the rule id")
    func trendInWords() throws {
        let d = Self.driver()
        d.current.sites[d.current.sites.firstIndex { $0.code == "RWG" }!].staleFeeds = []
        d.current.alerts.removeAll { $0.site == "RWG" }
        var trend = AlertSnapshot(rule: "ga_occupancy_trend", site: "RWG", severity: .warning, state: .firing, value: 120,
                                  summary: "Watford General Hospital G&A occ 93.1% rising 1%/h: will pass 95% in about 2h",
                                  since: Fixtures.t0 - .minutes(5), leadID: nil, leadName: nil,
                                  acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil)
        trend.cause = .trend(.gaOccupancyPct)
        d.current.alerts.append(trend)
        let g = render(DashboardController(driver: d), 200, 50)
        let row = try #require(Self.row(g, "Watford"))
        #expect(row.contains("G&A occ trend"), "\(row)")
        #expect(!row.contains("ga_occupancy_trend"), "\(row)")
    }

    static func row(_ g: CellGrid, _ name: String) -> String? {
        (0..<g.height).map { g.row($0) }.first { $0.contains(name) && ($0.contains("WARN") || $0.contains("CRIT")) && $0.hasPrefix("│") }
    }

    @Test("a site at WARN from a stale feed says which feed in words, not the rule id", arguments: [(60, 20), (80, 24), (120, 40), (200, 50)])
    func staleFeedInWords(size: (Int, Int)) throws {
        let g = render(DashboardController(driver: Self.driver()), size.0, size.1)
        let row = try #require(Self.row(g, "Watford"))
        #expect(row.contains("Beds stale"), "\(row)")
        #expect(!row.contains("stale_"), "\(row)")
    }

    @Test("the ambulance feed is said whole where there is room, as Amb where not", arguments: [(80, 24), (200, 50)])
    func ambulanceFeed(size: (Int, Int)) throws {
        let g = render(DashboardController(driver: Self.driver(feed: .ambulance)), size.0, size.1)
        let row = try #require(Self.row(g, "Watford"))
        #expect(row.contains(size.0 >= 200 ? "Ambulance stale" : "Amb stale"), "\(row)")
    }
}

@Suite struct FeedLineTests {
    static func line(_ d: FakeDriver, width: Int) -> String { render(DashboardController(driver: d), width, 24).row(1) }

    @Test("the Data line shows every feed's age, or says with … that some are left out", arguments: [60, 70, 80, 90, 100, 120])
    func everyFeedOrAnEllipsis(width: Int) {
        let d = FakeDriver()
        let line = Self.line(d, width: width)
        let shown = d.current.feeds.filter { line.contains($0.feed.label + " ") }
        #expect(shown.count == d.current.feeds.count || line.contains("…"), "\(line)")
        if shown.count < d.current.feeds.count, let last = shown.last, let mark = line.range(of: "…"),
           let at = line.range(of: last.feed.label) {
            // The sign is where the missing feeds would be: after the last one shown.
            #expect(mark.lowerBound > at.lowerBound, "\(line)")
        }
    }

    @Test("at 80 columns the feeds' own rejected counts give way before a feed's age")
    func perFeedCountsGoFirst() {
        // Every feed with lines rejected: with their counts the four do not fit.
        let d = FakeDriver()
        for i in d.current.feeds.indices { d.current.feeds[i].rejected = 4 + i }
        let line = Self.line(d, width: 80)
        #expect(line.contains("Ambulance none"), "\(line)")
        #expect(!line.contains("…"), "\(line)")
    }

    @Test("a service warning with no room for its words is a short cue or nothing, never a few letters",
          arguments: [80, 90, 100, 120, 140])
    func warningCutReadably(width: Int) {
        let d = FakeDriver()
        d.current.serviceWarning = "notifier pager failing: HTTP 503 from pager.example.nhs.uk (3 times)"
        let line = Self.line(d, width: width)
        guard let at = line.range(of: "✖") else { return }
        let shown = String(line[at.upperBound...]).trimmingCharacters()
        #expect(shown == "notifier pager failing: HTTP 503 from pager.example.nhs.uk (3 times)"
                || (shown.hasSuffix("…") && shown.split(separator: " ").count >= 2)
                || shown == "warning in log", "\(line)")
    }
}

@Suite struct HelpAt80Tests {
    @Test("at 80x24 the help shows the status legend, and no line of it is cut", arguments: [false, true])
    func legendShownNothingCut(detail: Bool) {
        let c = DashboardController(driver: FakeDriver())
        if detail { c.handle(.enter) }
        c.handle(.char("?"))
        let g = render(c, 80, 24)
        #expect(g.text.contains("missing or stale"), "\(g.text)")
        #expect(g.text.contains("trend, last hour"))
        let rows = (2..<23).map { g.row($0) }
        #expect(!rows.contains { $0.contains("…") }, "\(rows.joined(separator: "\n"))")
    }
}

@Suite struct FirstFocusOnAlertsTests {
    /// Live: at first only a pending alert; then two raised ones come before it.
    static func driver() -> FakeDriver {
        var s = Fixtures.snapshot(replay: nil)
        s.alerts = [AlertSnapshot(rule: "handover_queue", site: "RQW", severity: .warning, state: .pending, value: 5,
                                  summary: "Amb queue 5", since: Fixtures.t0 - .minutes(3), leadID: nil, leadName: nil,
                                  acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil)]
        return FakeDriver(s)
    }

    @Test("the first Tab and the first → to the alerts land on the top row", arguments: [Key.tab, Key.right, Key.char("l")])
    func firstFocusIsTheTopRow(key: Key) {
        let d = Self.driver()
        let c = DashboardController(driver: d)
        d.push { $0.alerts += Fixtures.snapshot().alerts }
        c.tick()
        #expect(c.orderedAlerts.first?.state == .firing)
        c.handle(key)
        #expect(c.state.focus == .alerts)
        #expect(c.selectedAlertIndex == 0, "\(String(describing: c.state.selectedAlert))")
    }

    @Test("after that the selection stays on the alert chosen")
    func laterTheChoiceStays() {
        let d = Self.driver()
        let c = DashboardController(driver: d)
        d.push { $0.alerts += Fixtures.snapshot().alerts }
        c.tick()
        c.handle(.tab)
        c.handle(.char("j"))
        let chosen = c.state.selectedAlert
        c.handle(.tab)
        c.handle(.tab)
        #expect(c.state.selectedAlert == chosen)
    }
}
