import FlowCore
import FlowIngest
import FlowLive
import Foundation
import Testing

/// A producer sending a backlog in time order (go-live, a back-fill) on one connection: after
/// its first group of lines the data in hand was hours old, the live evaluation right after the
/// group raised alerts on it, and the next group cleared them milliseconds later, each raise
/// paging a lead. A group whose newest line is more than `max_future_skew` old now waits for
/// the next tick; a current line is evaluated at once, as before.
@Suite struct BacklogEvaluationTests {
    static let yaml = listerSystemYAML(name: "Backlog", tick: "60s", rules: """
          - id: occupancy
            kind: threshold
            metric: ga_occupancy_pct
            units: [RWH]
            direction: above
            warning: 92
            for: 0m
        """)

    /// Ids by the group and the instant.
    static func bedLine(_ group: String, at t: EventTime, occupied: Int) -> ArraySlice<UInt8> {
        ArraySlice(#"{"feed":"bed","id":"RWH-bed-\#(group)-\#(t.millis)","at":"\#(RFC3339.format(t))","site":"RWH","ga_core_open":100,"ga_core_occupied":\#(occupied)}"#.utf8)
    }

    static func group(_ c: EngineConsumer, _ lines: [ArraySlice<UInt8>]) {
        for (i, l) in lines.enumerated() { #expect(c.consume(l, origin: LineOrigin(source: "tcp", line: i + 1)) == .accepted) }
        c.batchWillCommit()
        c.batchDidEnd()
    }

    @Test func aBacklogsFirstGroupRaisesNoAlertItsNextGroupClears() throws {
        let config = try ConfigLoader.load(yaml: Self.yaml, file: "backlog.yaml")
        let c = EngineConsumer(engine: FlowEngine(config: config, mode: .live), runsClock: true, journal: nil, alertLog: nil, slot: nil)
        c.tick()   // the service's first tick, before any line
        let now = WallClock.now()
        // Three hours ago, full (the data stays current for 6 hours); then the last hour, not.
        Self.group(c, (0..<4).map { Self.bedLine("backlog", at: now - .hours(3) + .minutes(Int64($0) * 15), occupied: 99) })
        #expect(c.engine.snapshot(historyPoints: 1).alerts.isEmpty, "raised on hours-old data")
        Self.group(c, (0..<4).map { Self.bedLine("recent", at: now - .minutes(50) + .minutes(Int64($0) * 15), occupied: 80) })
        #expect(c.engine.snapshot(historyPoints: 1).alerts.isEmpty)
        // A current line is evaluated at once, as before.
        Self.group(c, [Self.bedLine("current", at: WallClock.now(), occupied: 97)])
        #expect(c.engine.snapshot(historyPoints: 1).alerts.map(\.rule) == ["occupancy"], "at once, not at the next tick")
    }
}
