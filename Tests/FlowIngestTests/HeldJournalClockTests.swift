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
    static let yaml = listerSystemYAML(name: "Held journal", tick: "1s", rules: """
          - id: bed_feed_stale
            kind: stale
            feed: bed
            units: [RWH]
            expected: 1s
        """)

    static func bedLine(_ n: Int, at t: EventTime) -> ArraySlice<UInt8> {
        ArraySlice(#"{"feed":"bed","id":"RWH-bed-\#(n)","at":"\#(RFC3339.format(t))","site":"RWH","ga_core_open":650,"ga_core_occupied":600}"#.utf8)
    }

    /// A consumer that has taken one bed line, then `held` (or not) for about 2.5 s of the wall
    /// clock, given its chances to run the ticks ten times a second. Returns the consumer and
    /// the alerts then active.
    static func run(held: Bool, journal: Journal? = nil) throws -> (EngineConsumer, [AlertSnapshot]) {
        let config = try ConfigLoader.load(yaml: yaml, file: "held.yaml")
        let engine = FlowEngine(config: config, mode: .live)
        let consumer = EngineConsumer(engine: engine, runsClock: true, journal: journal, alertLog: nil, slot: nil)
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

    /// A TCP sender's lines refused during the hold come back only when it next tries, after the
    /// ticks have caught up: counted as silence, the hold called its feed stale at once.
    @Test("once the journal writes again, the hold is not counted as the feeds' silence, live and on recovery; silence after it is")
    func theHoldIsNotSilence() throws {
        let tmp = TempDir()
        let journal = try Journal(configuration: .init(directory: tmp.file("journal"), day: { "2026-01-05" }))
        let (consumer, alerts) = try Self.run(held: true, journal: journal)
        #expect(alerts.isEmpty, "\(alerts)")
        let heldAt = try #require(consumer.heldSince)
        // The journal writes again; no line comes (the sender has not resent yet): the ticks
        // catch up, and the feed, silent for 2.5 s of which it was held all but a moment, is not
        // stale (expected every second).
        consumer.journalHeld(false)
        consumer.batchDidEnd()
        #expect(try #require(consumer.engine.now) > heldAt + Duration(millis: 2000), "the ticks ran up to the wall clock")
        #expect(consumer.engine.snapshot(historyPoints: 1).alerts.isEmpty, "\(consumer.engine.snapshot(historyPoints: 1).alerts)")
        #expect(consumer.engine.model.inputHolds.count == 1)
        // Silent on for 2.5 s more (a second expected, ticks every second): that silence is the
        // feed's own.
        let end = Date(timeIntervalSinceNow: 2.5)
        while Date() < end {
            consumer.tick()
            Thread.sleep(forTimeInterval: 0.1)
        }
        let live = consumer.engine.snapshot(historyPoints: 1).alerts
        #expect(live.contains { $0.rule == "bed_feed_stale" }, "\(live)")
        // The journal holds the hold, before the catch-up's clock mark; recovery applies it at the
        // same place and gives the same alert, raised at the same instant.
        try journal.commit()
        let text = try String(contentsOfFile: tmp.file("journal/journal-2026-01-05.jsonl"), encoding: .utf8)
        let kinds = text.split(separator: "\n").compactMap { l in ["\"kind\":\"held\"", "\"kind\":\"clock\""].first { l.contains($0) } }
        let held = try #require(kinds.firstIndex(of: "\"kind\":\"held\""), "\(text)")
        #expect(kinds[..<held].count == 1 && kinds[(held + 1)...].contains("\"kind\":\"clock\""),
                "one clock mark before the hold, the catch-up's after it: \(text)")
        let recovered = FlowEngine(config: consumer.engine.config, mode: .live)
        _ = try Recovery.run(engine: recovered, journalDirectory: tmp.file("journal"))
        #expect(recovered.model.inputHolds.count == 1)
        #expect(recovered.snapshot(historyPoints: 1).alerts.map(\.since) == live.map(\.since))
    }
}
