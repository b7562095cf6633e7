import FlowCore
import FlowIngest
import FlowLive
import Foundation
import Testing

/// The live engine's clock while the journal holds the input (`EngineConsumer.journalHeld`): on
/// a full disk no line reaches the engine, and a stale-feed rule run on the wall clock called the
/// feed stale (and paged its lead) for a silence that was urgentflow's own.
///
/// The consumer reads the wall clock itself, so these tests give it the wall clock's time: a 1 s
/// rule tick and a feed expected every second, over about 2.5 s.
@Suite struct HeldJournalClockTests {
    static let yaml = """
        system:
          name: Held journal
          timezone: Europe/London
          tick: 1s
        units:
          - code: RWH
            name: Lister Hospital
            kind: acute
            beds: 700
        rules:
          - id: bed_feed_stale
            kind: stale
            feed: bed
            units: [RWH]
            expected: 1s
        """

    static func bedLine(_ n: Int, at t: EventTime) -> ArraySlice<UInt8> {
        ArraySlice(#"{"feed":"bed","id":"RWH-bed-\#(n)","at":"\#(RFC3339.format(t))","site":"RWH","ga_core_open":650,"ga_core_occupied":600}"#.utf8)
    }

    /// A consumer that has taken one bed line, then `held` (or not) for about 2.5 s of the wall
    /// clock, given its chances to run the ticks ten times a second. Returns the consumer and
    /// the alerts then active.
    static func run(held: Bool) throws -> (EngineConsumer, [AlertSnapshot]) {
        let config = try ConfigLoader.load(yaml: yaml, file: "held.yaml")
        let engine = FlowEngine(config: config, mode: .live)
        let consumer = EngineConsumer(engine: engine, runsClock: true, journal: nil, alertLog: nil, slot: nil)
        #expect(consumer.consume(bedLine(1, at: WallClock.now()), origin: LineOrigin(source: "test", line: 1)) == .accepted)
        consumer.batchWillCommit()
        consumer.batchDidEnd()
        if held { consumer.journalHeld(true) }
        let end = Date(timeIntervalSinceNow: 2.5)
        while Date() < end {
            consumer.tick()
            Thread.sleep(forTimeInterval: 0.1)
        }
        return (consumer, engine.snapshot(historyPoints: 1).alerts)
    }

    @Test("without a hold, a feed silent past its expected interval is called stale (the control)")
    func silenceIsStaleWithoutAHold() throws {
        let (_, alerts) = try Self.run(held: false)
        #expect(alerts.contains { $0.rule == "bed_feed_stale" && $0.site == "RWH" }, "\(alerts)")
    }

    @Test("while the journal holds the input, the rule ticks wait: no feed is called stale; once it writes, the lines that waited come first and the ticks catch up with them")
    func ticksWaitWhileTheJournalHoldsInput() throws {
        let (consumer, alerts) = try Self.run(held: true)
        #expect(alerts.isEmpty, "\(alerts)")
        let heldAt = try #require(consumer.heldSince)
        #expect(consumer.engine.now.map { $0 <= heldAt } == true, "the clock stays where the picture stopped")
        // The journal writes again; the line that waited is taken in the same round, then the
        // round ends: the clock catches up, with the line in hand.
        consumer.journalHeld(false)
        #expect(consumer.heldSince == nil)
        #expect(consumer.consume(Self.bedLine(2, at: WallClock.now()), origin: LineOrigin(source: "test", line: 2)) == .accepted)
        consumer.batchWillCommit()
        consumer.batchDidEnd()
        let caughtUp = try #require(consumer.engine.now)
        #expect(caughtUp > heldAt + Duration(millis: 2000), "the ticks ran up to the wall clock")
        #expect(consumer.engine.snapshot(historyPoints: 1).alerts.isEmpty)
    }
}
