import Testing
@testable import FlowCore

/// One mistyped time must not move a replay's clock (FlowEngine `held`). A bed line stamped
/// 13:00 among lines of 08:00 ran the rule ticks five hours ahead: the ambulance feed was called
/// stale, and the real lines after it were applied behind a clock they could not move.
@Suite struct ReplayClockJumpTests {
    static let staleAmbulance = RuleConfig.stale(StaleRule(id: "amb-stale", feed: .ambulance, units: ["AAA"], expected: .minutes(30)))
    static let staleBeds = RuleConfig.stale(StaleRule(id: "bed-stale", feed: .bed, units: ["AAA"], expected: .minutes(60)))
    static var config: SystemConfig { testConfig(rules: [staleAmbulance, staleBeds]) }

    /// Two hours at AAA: an ambulance arrival and its handover every 10 minutes, a bed line every
    /// 30 minutes, in time order.
    static func steadyLines(minutes: ClosedRange<Int64> = 0...120) -> [String] {
        var lines: [String] = []
        for m in stride(from: minutes.lowerBound, through: minutes.upperBound, by: 10) {
            if m % 30 == 0 { lines.append(bedLine("AAA", at(m), occupied: 80)) }
            lines.append(ambLine("AAA", at(m), kind: "arrived", incident: "i\(m)"))
            lines.append(ambLine("AAA", at(m + 5), kind: "handover", incident: "i\(m)"))
        }
        return lines
    }

    /// Feeds every line and finishes; the transitions as JSON lines.
    static func run(_ lines: [String]) -> (HeadlessReplay, [String]) {
        let (r, out) = replay(config, lines)
        return (r, out.map(\.jsonLine))
    }

    @Test func aMistypedTimeIsRefusedAndTheClockStaysWithTheLinesAroundIt() {
        var lines = Self.steadyLines()
        let typo = lines.firstIndex { $0.contains(iso(at(60))) && $0.contains("\"bed\"") }!
        let (clean, cleanOut) = Self.run(lines)
        // The 13:00 reading for 08:00: five hours ahead, inside the replay's six-hour limit.
        lines[typo] = bedLine("AAA", at(60 + 300), occupied: 80)
        let (r, out) = Self.run(lines)
        #expect(r.rejections.map(\.line) == [typo + 1])
        #expect(r.rejections.first?.rejection.reason == .futureTime)
        #expect(r.rejections.first?.rejection.field == "at")
        #expect(r.rejections.first?.rejection.description.contains("mistyped") == true)
        #expect(r.engine.acceptedTotal == clean.engine.acceptedTotal - 1)
        #expect(out == cleanOut, "the other lines give the alerts they give without it")
        #expect(!out.contains { $0.contains("amb-stale") }, "the ambulance feed never went quiet")
        #expect(r.engine.now == clean.engine.now)
    }

    /// Lines of other feeds behind the held line are applied as they come, and it stays held;
    /// the next line of its own feed, back at 08:00, refuses it. Its rejection is reported
    /// against its own line, before any rejection of a later line.
    @Test func otherFeedsBehindItKeepItHeldAndItsOwnFeedRefusesIt() {
        var lines = Self.steadyLines(minutes: 0...50)
        lines.append(bedLine("AAA", at(300), occupied: 80))            // the mistyped one
        let typoLine = lines.count
        lines.append(ambLine("AAA", at(60), kind: "arrived", incident: "late1"))
        lines.append(ambLine("AAA", at(61), kind: "arrived", incident: "late2"))
        lines.append("{\"feed\":\"bed\",\"id\":\"bad\"}")                // refused on its own
        lines.append(bedLine("AAA", at(62), occupied: 81))             // its own feed, back at 08:00
        lines.append(ambLine("AAA", at(70), kind: "handover", incident: "late1"))
        let (r, _) = Self.run(lines)
        #expect(r.rejections.map(\.line) == [typoLine + 3, typoLine], "the malformed line is refused first, then the held line when its feed speaks")
        #expect(r.rejections.last?.rejection.reason == .futureTime)
        #expect(r.engine.model.value(.gaOccupancyPct, site: 0) == 81, "the 08:02 reading is the latest")
        #expect(r.engine.now! < at(120), "the clock never went to 13:00")
    }

    /// Every feed silent for three hours, then back: the first line after the outage jumps ahead
    /// and the next one confirms it. The outage is what the stale rules report, as before.
    @Test func aRealJumpAfterAnOutageIsApplied() {
        let lines = Self.steadyLines(minutes: 0...60) + Self.steadyLines(minutes: 240...300)
        let (r, out) = Self.run(lines)
        #expect(r.rejections.isEmpty)
        #expect(r.engine.acceptedTotal == lines.count)
        let stale = out.filter { $0.contains("amb-stale") }
        #expect(stale.contains { $0.contains("\"firing\"") }, "the ambulance feed was quiet for three hours: \(out)")
        #expect(stale.contains { $0.contains("\"resolved\"") })
        #expect(r.engine.now! >= at(305))
    }

    /// The last line jumps ahead and nothing comes after it to say otherwise: it is applied.
    @Test func aHeldLastLineIsApplied() {
        var lines = Self.steadyLines(minutes: 0...60)
        lines.append(bedLine("AAA", at(120), occupied: 90))
        let (r, _) = Self.run(lines)
        #expect(r.rejections.isEmpty)
        #expect(r.engine.acceptedTotal == lines.count)
        #expect(r.engine.model.value(.gaOccupancyPct, site: 0) == 90)
    }

    /// A whole day missing from a recording: the lines after the gap are more than
    /// `max_future_skew_replay` ahead, and were all refused (the clock could never move on, and
    /// the rest of the replay was lost). Held and confirmed by the next line, the day is applied.
    @Test func aWholeDayMissingIsAGapNotARefusal() {
        let lines = Self.steadyLines(minutes: 0...120) + Self.steadyLines(minutes: 1440...1560)
        let (r, out) = Self.run(lines)
        #expect(r.rejections.isEmpty, "\(r.rejections.map { $0.rejection.description })")
        #expect(r.engine.acceptedTotal == lines.count)
        #expect(r.engine.now! >= at(1565))
        #expect(out.contains { $0.contains("amb-stale") && $0.contains("\"resolved\"") }, "the outage is reported, then over")
    }

    /// Far ahead, a mistyped day: refused when its feed's next line comes back; as the last line,
    /// with nothing after it near it, refused at the end instead of applied.
    @Test func aMistypedDayIsRefusedByItsFeedOrAtTheEnd() {
        var lines = Self.steadyLines(minutes: 0...60)
        lines.append(bedLine("AAA", at(60 + 24 * 60), occupied: 90))
        lines.append(bedLine("AAA", at(70), occupied: 85))
        var (r, _) = Self.run(lines)
        #expect(r.rejections.map(\.line) == [lines.count - 1])
        #expect(r.rejections.first?.rejection.description.contains("a mistyped time?") == true)
        lines.removeLast()
        (r, _) = Self.run(lines)
        #expect(r.rejections.map(\.line) == [lines.count])
        #expect(r.rejections.first?.rejection.description.contains("no line after it came near it") == true)
        #expect(r.engine.now! < at(120))
    }

    /// The player feeds a held line at once and runs no tick past its time until its verdict:
    /// the transitions are the headless replay's at any speed.
    @Test("a replay player with a mistyped line and a real jump gives the headless transitions", arguments: [60.0, 3600.0, 0])
    func playerMatchesHeadless(_ speed: Double) {
        // The real jump's line (a bed line at 03:20 after 02:05) is confirmed only ten minutes
        // later: the ticks between wait for it, and the bed feed's stale alert resolves at 03:20.
        var lines = Self.steadyLines(minutes: 0...120) + [bedLine("AAA", at(200), occupied: 85)] + Self.steadyLines(minutes: 210...270)
        let typo = lines.firstIndex { $0.contains(iso(at(90))) && $0.contains("\"bed\"") }!
        lines[typo] = bedLine("AAA", at(90 + 240), occupied: 80)
        let (r, headless) = Self.run(lines)
        #expect(r.rejections.map(\.line) == [typo + 1])
        var player = ReplayPlayer(config: Self.config, name: "jump", lines: lines.map { Array($0.utf8) }, speed: speed)
        player.keepAllTransitions = true
        player.setPaused(false, wall: 0)
        var wall: Int64 = 0
        while !player.isFinished && wall < 100_000_000 {
            wall += 250
            _ = player.advance(wall: wall, maxLines: 7)
        }
        #expect(player.isFinished)
        #expect(player.recentTransitions.map(\.jsonLine) == headless, "speed \(speed)")
        #expect(player.engine.rejectedTotal == 1)
        #expect(headless.contains { $0.contains("bed-stale") && $0.contains("\"resolved\"") && $0.contains(iso(at(200))) }, "\(headless)")
    }
}
