import FlowCore
import Testing
@testable import FlowTerminal

/// Fixes from the trainer's user test of the dashboard (handover-crisis replay): what the
/// screen says, at the sizes people use.

/// The site table's row (a box row) holding `name`.
private func siteRow(_ g: CellGrid, _ name: String) -> String? {
    (0..<g.height).map { g.row($0) }.first { $0.contains(name) && $0.hasPrefix("│") && ($0.contains("OK") || $0.contains("WARN") || $0.contains("CRIT")) }
}

@Suite struct NarrowWhyTests {
    /// At 60 columns a Why column (the Princess Alexandra's escalation beds) leaves the
    /// ambulance service and 111 rows too little room for any of their chips.
    @Test("a WARN or CRIT unit whose chips are all cut off says why, from what its row shows", arguments: [(60, 20)])
    func chipsCutOffStillSayWhy(size: (Int, Int)) throws {
        let g = render(DashboardController(driver: FakeDriver()), size.0, size.1)
        #expect(g.text.contains("Why"))
        let eeast = try #require(siteRow(g, "East of England"), "\(g.text)")
        #expect(eeast.contains("CRIT"))
        // No figure of it shows, so the Why column names the metric at CRIT (cut to the column).
        #expect(!eeast.contains("999 stack 412"), "\(eeast)")
        #expect(eeast.contains("999 sta"), "\(eeast)")
        let huc = try #require(siteRow(g, "Herts Urgent"), "\(g.text)")
        #expect(huc.contains("WARN"))
        #expect(!huc.contains("61.5%"), "\(huc)")
        #expect(huc.contains("Ans <60"), "\(huc)")
    }

    @Test("a unit whose chip at its status shows needs no Why", arguments: [(120, 40), (200, 50)])
    func visibleChipExplains(size: (Int, Int)) throws {
        let g = render(DashboardController(driver: FakeDriver()), size.0, size.1)
        let eeast = try #require(siteRow(g, "East of England"), "\(g.text)")
        #expect(eeast.contains("999 stack 412"), "\(eeast)")
        let (_, causes) = SiteGridWidget.columns(forWidth: size.0, inner: size.0 - 2, sites: Fixtures.snapshot().sites,
                                                 alerts: Fixtures.snapshot().alerts)
        #expect(causes["EEAST"] == nil)
    }
}

@Suite struct SilencedByTests {
    static func grid(by: String, _ size: (Int, Int)) -> CellGrid {
        var snap = Fixtures.snapshot()
        let i = snap.alerts.firstIndex { $0.rule == "answered_60s_low" }!
        snap.alerts[i].silencedUntil = snap.now + .hours(1)
        snap.alerts[i].silencedBy = by
        snap.alerts[i].silenceReason = "awaiting HALO"
        return render(DashboardController(driver: FakeDriver(snap)), size.0, size.1)
    }

    static func silencedRow(_ g: CellGrid) -> String? {
        (0..<g.height).map { g.row($0) }.first { $0.contains("silenced 1h") }
    }

    @Test("a silenced row says who, cut with … when the whole name does not fit")
    func whoIsClipped() throws {
        // 24 columns at 120: `silenced 1h by Sam Trainer` is 26.
        let row = try #require(Self.silencedRow(Self.grid(by: "Sam Trainer", (120, 40))))
        #expect(row.contains("silenced 1h by Sam Trai…"), "\(row)")
        // A name that fits is whole.
        let wide = try #require(Self.silencedRow(Self.grid(by: "Sam Trainer", (200, 50))))
        #expect(wide.contains("silenced 1h by Sam Trainer "), "\(wide)")
        let short = try #require(Self.silencedRow(Self.grid(by: "Sam", (120, 40))))
        #expect(short.contains("silenced 1h by Sam "), "\(short)")
    }
}

@Suite struct SpeedWordingTests {
    @Test("after + the status line writes the speed as the header does", arguments: [true, false])
    func statusLineAgreesWithHeader(unicode: Bool) throws {
        let d = FakeDriver()
        d.reply = "speed x120"   // the replay driver's words, in ASCII
        let c = DashboardController(driver: d)
        c.handle(.char("+"))
        let g = render(c, 120, 40, theme: Theme(name: .standard, depth: .full256, unicode: unicode))
        let header = g.row(0), status = g.row(39)
        let speed = unicode ? "×120" : "x120"
        #expect(header.contains("REPLAY \(speed)"), "\(header)")
        #expect(status.contains("speed \(speed)"), "\(status)")
        // Another message is drawn as given.
        c.handle(.char("?")); c.handle(.char("?"))
        c.handle(.char("a")); c.handle(.escape)
        #expect(render(c, 120, 40).row(39).contains("Acknowledgement cancelled"))
    }
}

@Suite struct PromptTitleTests {
    /// The prompt's top border: the row with the box's title.
    static func titleRow(_ g: CellGrid, _ start: String) -> String? {
        (0..<g.height).map { g.row($0) }.first { $0.contains("┌─ " + start) }
    }

    @Test("a prompt's title too long for its box is cut with …", arguments: [(60, 20), (80, 24), (120, 40)])
    func titleClippedWithEllipsis(size: (Int, Int)) throws {
        let d = FakeDriver()
        let i = d.current.sites.firstIndex { $0.code == "RWH" }!
        d.current.sites[i].name = "Lister Hospital, Stevenage"
        d.current.alerts[0].rule = "ed_over_12h"
        let c = DashboardController(driver: d)
        c.handle(.tab)
        c.handle(.char("s"))
        let g = render(c, size.0, size.1)
        let row = try #require(Self.titleRow(g, "Silence notifications of ed_over_12h"), "\(g.text)")
        // The title ends with … and a space before the corner's border.
        #expect(row.contains("… ─┐"), "\(row)")
        #expect(!row.contains("Stevenag─"), "\(row)")
    }
}

@Suite struct SilenceLengthTests {
    /// The silence prompt for Lister's first alert, on its For field holding `typed`.
    static func promptOnLength(_ typed: String) -> DashboardController {
        let c = DashboardController(driver: FakeDriver())
        c.handle(.tab)
        c.handle(.char("s"))
        for ch in "Sam Trainer" { c.handle(.char(ch)) }
        c.handle(.enter)
        c.handle(.backspace); c.handle(.backspace)
        for ch in typed { c.handle(.char(ch)) }
        c.handle(.enter)
        return c
    }

    @Test("a rejected silence length says why, in the prompt and on the status line", arguments: [
        ("8d", "8d is over the 7d maximum"),
        ("0m", "0m is no time: a silence must last more than 0"),
        ("90", "90 needs a unit: s, m, h or d"),
        ("1h30", "1h30 needs a unit after 30"),
        ("soon", "soon is not a length"),
        ("", "For how long? Type a length"),
    ])
    func rejectedLengthSaysWhy(typed: String, why: String) throws {
        let c = Self.promptOnLength(typed)
        #expect(c.state.ack?.field == .duration, "refused: the prompt stays on the length")
        #expect(c.state.message?.hasPrefix(why) == true, "\(c.state.message ?? "nil")")
        let g = render(c, 120, 40)
        #expect(g.text.contains(why), "\(g.text)")
    }

    @Test("the longest silence is taken, and the note of why goes with the next key")
    func sevenDaysIsTaken() {
        let c = Self.promptOnLength("8d")
        #expect(c.state.ack?.problem?.hasPrefix("8d is over the 7d maximum") == true)
        c.handle(.backspace); c.handle(.backspace)
        #expect(c.state.ack?.problem == nil)
        for ch in "7d" { c.handle(.char(ch)) }
        c.handle(.enter)
        #expect(c.state.ack?.field == .note)
    }
}

@Suite struct OpelDiffersTests {
    @Test("the OPEL column marks a difference only when both levels are known", arguments: [(60, 20), (80, 24), (120, 40)])
    func noMarkWithAnUnknownSide(size: (Int, Int)) throws {
        // Watford: automated level unknown, declared 3; Lister: 4 against 3.
        let g = render(DashboardController(driver: FakeDriver()), size.0, size.1)
        let watford = try #require((0..<g.height).map { g.row($0) }.first { $0.contains("Watford") && $0.hasPrefix("│") })
        #expect(watford.contains("--/3"), "\(watford)")
        #expect(!watford.contains("--/3≠"), "\(watford)")
        let lister = try #require(siteRow(g, "Lister"))
        #expect(lister.contains("4/3≠"), "\(lister)")
    }

    @Test("the site page does not say the levels differ when the automated one is unknown")
    func detailSaysNoDifference() {
        let c = DashboardController(driver: FakeDriver())
        c.handle(.down)
        c.handle(.enter)
        #expect(c.state.detailSite == "RWG")
        let text = render(c, 120, 40).text
        #expect(text.contains("OPEL auto -- / declared 3"), "\(text)")
        #expect(!text.contains("differ"), "\(text)")
    }
}

@Suite struct StatusHintTests {
    static func statusLine(paused: Bool, _ size: (Int, Int)) -> String {
        let c = DashboardController(driver: FakeDriver())
        if paused { c.handle(.char(" ")) }
        return render(c, size.0, size.1).row(size.1 - 1)
    }

    @Test("from 120 columns the hints include silence and the replay's jumps", arguments: [false, true])
    func wideHintsHaveTheRest(paused: Bool) {
        for size in [(120, 40), (200, 50)] {
            let line = Self.statusLine(paused: paused, size)
            for hint in ["? help", "q quit", "a ack", "s silence", "/ filter", paused ? "Space resume" : "Space pause",
                         "+- speed", ". step", "n next", "[] ", "{ start"] {
                #expect(line.contains(hint), "\(size): \(line)")
            }
        }
        // With room, in full words, two spaces apart.
        #expect(Self.statusLine(paused: paused, (200, 50)).contains("n next alert  [] hour  { start"))
        // Below 120 columns the hints are as they were.
        for size in [(60, 20), (80, 24), (100, 30)] {
            let line = Self.statusLine(paused: paused, size)
            #expect(line.hasPrefix("? help  q quit  jk move"), "\(line)")
            #expect(!line.contains("s silence") && !line.contains("{ start"), "\(line)")
        }
    }
}

@Suite struct StatusWordFilterTests {
    /// The fixture and a WARN alert whose summary names the critical level (`(crit ≥10)` on screen).
    static func driver() -> FakeDriver {
        let d = FakeDriver()
        d.current.alerts.append(AlertSnapshot(rule: "ed_over_12h", site: "RQW", severity: .warning, state: .firing, value: 11,
                                              summary: "Princess Alexandra Hospital >12h in ED 11 (critical at or above 10)",
                                              since: Fixtures.t0 - .minutes(50), leadID: nil, leadName: nil,
                                              acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil))
        d.current.alerts.append(AlertSnapshot(rule: "handover_longest_wait", site: "RQW", severity: .critical, state: .pending, value: 70,
                                              summary: "Princess Alexandra Hospital Longest wait 70 min (critical at or above 60 min)",
                                              since: Fixtures.t0 - .minutes(2), leadID: nil, leadName: nil,
                                              acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil))
        return d
    }

    static func filtered(_ text: String) -> DashboardController {
        let c = DashboardController(driver: Self.driver())
        c.handle(.char("/"))
        for ch in text { c.handle(.char(ch)) }
        c.handle(.enter)
        return c
    }

    @Test("a filter that is a status word matches the rows showing that status, not their text")
    func statusWordMatchesTheStatusShown() throws {
        let c = Self.filtered("crit")
        // The two ✖ CRIT rows (one summary does not say "crit"), not the WARN row whose summary
        // names the critical level, nor the pending one.
        #expect(Set(c.filteredAlerts.map(\.rule)) == ["handover_queue", "ga_occupancy_high"], "\(c.filteredAlerts.map(\.rule))")
        // The sites at ✖ CRIT.
        #expect(c.visibleSites.map(\.code) == ["RWH", "EEAST"])
        let g = render(c, 120, 40)
        #expect(!g.text.contains("No site matches the filter"))
        #expect(Set(Self.filtered("WARN").filteredAlerts.map(\.rule)) == ["answered_60s_low", "ed_over_12h"])
        #expect(Self.filtered("warn").visibleSites.map(\.code) == ["RQW", "HUC"])
        #expect(Self.filtered("pend").filteredAlerts.map(\.rule) == ["handover_longest_wait"])
        #expect(Self.filtered("ok").visibleSites.map(\.code) == ["HCT"])
        #expect(Self.filtered("n/a").filteredAlerts.map(\.rule) == ["feed_stale_bed"])
        // Any other filter still matches names, codes, rules and summaries.
        #expect(Self.filtered("critical").filteredAlerts.map(\.rule).contains("ed_over_12h"))
        #expect(Self.filtered("lister").visibleSites.map(\.code) == ["RWH"])
        // A unit's kind, whatever its case: "NHS 111" was compared with the lower-cased filter.
        #expect(Self.filtered("nhs 1").visibleSites.map(\.code) == ["HUC"], "\(Self.filtered("nhs 1").visibleSites.map(\.code))")
    }
}
