import Testing
@testable import FlowCore

/// A producer sending a backlog in time order (go-live, or a back-fill of a day) on one
/// connection: the live service evaluates after each group of lines, and after the first group
/// the data in hand is hours old. A stale-feed rule fired there and resolved with the next
/// group 46 ms later, paging every lead (and spending their message budget, which held back
/// the real alerts for 16 minutes). A stale rule fires on the tick grid only; off the grid it
/// only resolves.
@Suite struct BacklogStaleTests {
    static let config = testConfig(rules: [.stale(StaleRule(id: "bed-stale", feed: .bed, units: ["AAA"], expected: .hours(2),
                                                            criticalAfter: .hours(4)))])
    static let wall = at(19 * 60) + .seconds(26)   // 19:00:26, the service's start

    static func started() -> FlowEngine {
        let e = FlowEngine(config: config, mode: .live)
        e.advance(to: wall)
        return e
    }

    @Test func aBacklogDoesNotFlapAStaleAlert() {
        let e = Self.started()
        // The first group: the morning's bed lines, hours old.
        for m in stride(from: 0, through: 120, by: 60) { _ = e.ingest(bedLine("AAA", at(Int64(m)), occupied: 80), receivedAt: Self.wall) }
        e.evaluate(at: Self.wall + .seconds(1))
        #expect(e.drainTransitions().isEmpty, "stale at 19:00:27 with the morning's data only")
        // The rest of the day, 46 ms later: current.
        for m in stride(from: 180, through: 1140, by: 60) { _ = e.ingest(bedLine("AAA", at(Int64(m)), occupied: 80), receivedAt: Self.wall) }
        e.evaluate(at: Self.wall + .seconds(1) + Duration(millis: 46))
        e.advance(to: Self.wall + .minutes(2))
        #expect(e.drainTransitions().isEmpty)
    }

    @Test func dataThatStaysOldIsCalledStaleAtTheNextTick() {
        let e = Self.started()
        _ = e.ingest(bedLine("AAA", at(0), occupied: 80), receivedAt: Self.wall)
        e.evaluate(at: Self.wall + .seconds(1))
        #expect(e.drainTransitions().isEmpty)
        e.advance(to: Self.wall + .seconds(40))   // 19:01:06: the 19:01 tick
        let out = e.drainTransitions()
        #expect(out.map(\.state) == [.firing], "\(out)")
        #expect(out.first?.severity == .critical)
        #expect(out.first?.at == at(19 * 60 + 1))
    }
}
