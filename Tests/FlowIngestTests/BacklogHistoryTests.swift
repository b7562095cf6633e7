import FlowCore
import FlowIngest
import FlowLive
import Foundation
import Testing

/// A producer's backlog through the live consumer, with its journal: the history samples the
/// backlog covers are filled (the live user test's "19 hours sent at once leave them empty"), and
/// a restart rebuilds the same history from the journal (its lines and clock marks).
@Suite struct BacklogHistoryTests {
    static let yaml = listerSystemYAML(name: "Backlog history", tick: "1s", rules: """
          - id: occupancy
            kind: threshold
            metric: ga_occupancy_pct
            units: [RWH]
            direction: above
            warning: 92
        """)

    static func bedLine(_ n: Int, at t: EventTime, occupied: Int) -> ArraySlice<UInt8> {
        ArraySlice(#"{"feed":"bed","id":"RWH-bed-\#(n)","at":"\#(RFC3339.format(t))","site":"RWH","ga_core_open":100,"ga_core_occupied":\#(occupied),"ed_in_department":\#(30 + n % 20)}"#.utf8)
    }

    static func history(_ e: FlowEngine) -> [[Double?]] {
        (0...e.config.units.count).flatMap { site in MetricKey.allCases.map { e.model.series($0, site: site, count: 288) } }
    }

    @Test func aBacklogReachesTheHistoryAndARestartRebuildsIt() throws {
        let tmp = TempDir()
        let journal = try Journal(configuration: .init(directory: tmp.file("journal"), day: { "2026-01-05" }))
        let config = try ConfigLoader.load(yaml: Self.yaml, file: "backlog.yaml")
        let consumer = EngineConsumer(engine: FlowEngine(config: config, mode: .live), runsClock: true, journal: journal,
                                      alertLog: nil, slot: nil)
        consumer.tick()   // the service's first tick, before any line
        // Nineteen hours of bed lines every 15 minutes, up to 15 minutes ago, in one group (the
        // hub journals each accepted line, then the consumer's marks, then commits).
        let now = WallClock.now()
        let first = now - .hours(19)
        for n in 0..<76 {
            let line = Self.bedLine(n, at: first + .minutes(Int64(n) * 15), occupied: 70 + n / 4)
            #expect(consumer.consume(line, origin: LineOrigin(source: "tcp", line: n + 1)) == .accepted)
            journal.append(Array(line))
        }
        consumer.batchWillCommit()
        try journal.commit()
        consumer.batchDidEnd()
        // The next ticks (a second apart).
        let end = Date(timeIntervalSinceNow: 1.5)
        while Date() < end {
            consumer.tick()
            Thread.sleep(forTimeInterval: 0.1)
        }
        let occupancy = consumer.engine.model.series(.gaOccupancyPct, site: 0, count: 288)
        // The samples from the first line on (every 5 minutes; the ring's day holds all of them).
        let known = occupancy.compactMap { $0 }
        #expect(known.count >= 19 * 12 - 1, "\(known.count) samples")
        #expect(known.first == 70 && known.last == 88)
        // A restart: the same history from the journal.
        let recovered = FlowEngine(config: config, mode: .live)
        _ = try Recovery.run(engine: recovered, journalDirectory: tmp.file("journal"))
        #expect(Self.history(recovered) == Self.history(consumer.engine))
    }
}
