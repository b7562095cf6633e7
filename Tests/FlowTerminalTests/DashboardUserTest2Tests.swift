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
