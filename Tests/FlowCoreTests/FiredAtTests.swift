import Testing
@testable import FlowCore

/// The dashboard's "For" column counts a firing alert from when it fired: the snapshot carries
/// that instant, the `at` of the alert log's firing line (its `since` is when it went pending).
@Suite struct FiredAtTests {
    func alert(_ r: HeadlessReplay) -> AlertSnapshot? {
        r.engine.snapshot(historyPoints: 1).alerts.first { $0.rule == "occ" && $0.site == "AAA" }
    }

    @Test func aFiringAlertCarriesWhenItFiredAPendingOneDoesNot() throws {
        let config = testConfig(rules: [occupancyRule(for: .minutes(30))])
        var r = HeadlessReplay(config: config)
        var out: [AlertTransition] = []
        for m in stride(from: Int64(0), through: 20, by: 10) { out += r.feed(bedLine("AAA", at(m), occupied: 93)) }
        let pending = try #require(alert(r))
        #expect(pending.state == .pending)
        #expect(pending.firedAt == nil)
        for m in stride(from: Int64(30), through: 90, by: 10) { out += r.feed(bedLine("AAA", at(m), occupied: 93)) }
        let firing = try #require(out.first { $0.state == .firing })
        let a = try #require(alert(r))
        #expect(a.state == .firing)
        #expect(a.firedAt == firing.at)
        #expect(a.since == firing.since)
        #expect(a.since < firing.at)
    }

    @Test func aResolvedEpisodeForgetsItAndTheNextFiresAfresh() {
        var l = AlertLifecycle()
        _ = l.step(.known(target: .warning, value: 1, summary: ""), now: t0, raiseDelay: .zero, clearDelay: .zero)
        #expect(l.firingSince == t0)
        _ = l.step(.unknown(summary: ""), now: at(5), raiseDelay: .zero, clearDelay: .zero)
        _ = l.step(.known(target: .warning, value: 1, summary: ""), now: at(10), raiseDelay: .zero, clearDelay: .zero)
        #expect(l.firingSince == t0, "known again is the same episode")
        _ = l.step(.known(target: nil, value: 0, summary: ""), now: at(20), raiseDelay: .zero, clearDelay: .zero)
        l.reset()
        #expect(l.firingSince == nil)
        _ = l.step(.known(target: .warning, value: 1, summary: ""), now: at(30), raiseDelay: .zero, clearDelay: .zero)
        #expect(l.firingSince == at(30))
    }
}
