import Testing
import FlowCore
@testable import FlowTerminal

@Suite struct PlainModeTests {
    @Test func oneLinePerSiteWithWordsAndMissingValues() {
        let lines = PlainRenderer.lines(Fixtures.snapshot(), paused: false)
        let sites = lines.filter { $0.key.hasPrefix("site:") }
        #expect(sites.count == 6)
        let watford = sites.first { $0.key == "site:RWG" }!.text
        #expect(watford.contains("[n/a]"))
        #expect(watford.contains("G&A occ missing"))
        let lister = sites.first { $0.key == "site:RWH" }!.text
        #expect(lister.contains("[CRIT]"))
        #expect(lister.contains("OPEL 4 declared 3 (differs)"))
        for l in lines { #expect(!l.text.contains("│") && !l.text.contains("┌")) }
    }

    @Test func onlyChangedLinesAreWritten() {
        let r = PlainRenderer()
        var s = Fixtures.snapshot()
        let first = r.changedLines(s, paused: false)
        #expect(first.count == 1 + 2 + 6 + 4)
        #expect(r.changedLines(s, paused: false).isEmpty)
        s.sites[2].metrics[0].value = 93.5
        s.alerts.removeLast()
        let next = r.changedLines(s, paused: false)
        #expect(next.count == 2, "no second clock line in the same minute: \(next)")
        #expect(next[0].hasPrefix("Princess Alexandra Hospital"))
        #expect(next[1] == "CLEARED feed_stale_bed at Watford General Hospital", "in words, not the internal key")
    }

    /// For screen-reader users every line written is read out: a minute passing rewrote every
    /// alert line (`for 2h05m` became `for 2h06m`), and two frames in a minute each wrote the
    /// clock line.
    @Test func aMinutePassingWritesNoAlertLineAgainAndTheClockOnce() {
        let r = PlainRenderer()
        var s = Fixtures.snapshot()
        _ = r.changedLines(s, paused: false)
        s.now = s.now + .minutes(1)
        s.localClock = "2026-01-05 08:16 GMT"
        s.feeds[0].age = .minutes(3)
        let next = r.changedLines(s, paused: false)
        #expect(next.count == 2, "the clock and the feeds' ages only: \(next)")
        #expect(!next.contains { $0.hasPrefix("ALERT") })
        let alert = PlainRenderer.lines(s, paused: false).first { $0.key == "alert:ga_occupancy_high@RWH" }?.text ?? ""
        #expect(alert.contains("| since 06:10 |"), "\(alert)")   // 08:15 less 125 minutes, local (GMT)
        s.feeds[0].age = .minutes(4)
        let again = r.changedLines(s, paused: false)
        #expect(again.count == 1 && again[0].hasPrefix("Feeds:"), "the same minute: no second clock line: \(again)")
    }
}
