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
        #expect(next.count == 3)
        #expect(next[1].hasPrefix("Princess Alexandra Hospital"))
        #expect(next[2] == "CLEARED alert:feed_stale_bed@RWG")
    }
}
