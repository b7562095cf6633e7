import FlowCore
import FlowScenarios
import Foundation
import Testing

/// Replays every bundled scenario headlessly against the bundled system and checks the alert
/// timeline against the human reading in `Scenarios/<name>.expect.jsonl`, and against the exact
/// recorded output in `Scenarios/expected/<name>.alerts.jsonl` (regenerate with
/// `URGENTFLOW_REGENERATE=1`, then read the diff before committing).
@Suite struct ScenarioTimelineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let scenarios = root.appendingPathComponent("Scenarios")

    static func config() throws -> SystemConfig {
        let path = scenarios.appendingPathComponent("herts-west-essex.yaml").path
        return try ConfigLoader.load(yaml: String(contentsOfFile: path, encoding: .utf8), file: path)
    }

    static func lines(_ name: String) throws -> [String] {
        let text = try String(contentsOf: scenarios.appendingPathComponent("\(name).jsonl"), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    static func headless(_ name: String) throws -> (HeadlessReplay, [AlertTransition]) {
        var r = HeadlessReplay(config: try config(), sitrep: true)
        var out: [AlertTransition] = []
        for l in try lines(name) { out += r.feed(l) }
        out += r.finish()
        return (r, out)
    }

    struct Expectation {
        var rule: String
        var site: String
        var state: String?
        var severity: String?
        var after: EventTime?
        var before: EventTime?
        var never: Bool
        var why: String
    }

    static func expectations(_ name: String) throws -> [Expectation] {
        let text = try String(contentsOf: scenarios.appendingPathComponent("\(name).expect.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return Expectation(rule: o["rule"] as! String, site: o["site"] as! String, state: o["state"] as? String,
                               severity: o["severity"] as? String, after: (o["after"] as? String).flatMap(RFC3339.parse),
                               before: (o["before"] as? String).flatMap(RFC3339.parse), never: o["never"] as? Bool ?? false,
                               why: o["why"] as? String ?? "")
        }
    }

    static let names = ScenarioName.allCases.map(\.rawValue)

    @Test("the alert timeline matches the human reading of the scenario", arguments: names)
    func timelineMatchesExpectations(_ name: String) throws {
        let (_, out) = try Self.headless(name)
        let expectations = try Self.expectations(name)
        #expect(!expectations.isEmpty)
        for e in expectations {
            let same = out.filter { $0.rule == e.rule && $0.site == e.site }
            if e.never {
                let fired = same.filter {
                    ($0.state == .firing || $0.state == .severityChanged) && (e.severity == nil || $0.severity.rawValue == e.severity)
                }
                #expect(fired.isEmpty, "\(name): \(e.rule)@\(e.site) must never fire\(e.severity.map { " at " + $0 } ?? ""): \(e.why); got \(fired.map(\.jsonLine))")
                continue
            }
            let matching = same.filter { t in
                let stateOK: Bool
                switch e.state {
                case "firing"?: stateOK = t.state == .firing || (e.severity != nil && t.state == .severityChanged)
                case let s?: stateOK = t.state.rawValue == s
                case nil: stateOK = true
                }
                let severityOK = e.severity == nil || t.severity.rawValue == e.severity
                let timeOK = (e.after == nil || t.at >= e.after!) && (e.before == nil || t.at <= e.before!)
                return stateOK && severityOK && timeOK
            }
            #expect(!matching.isEmpty, """
                \(name): expected \(e.rule)@\(e.site) \(e.state ?? "any") \(e.severity ?? "") between \(e.after.map(RFC3339.format) ?? "start") and \(e.before.map(RFC3339.format) ?? "end") (\(e.why)); \
                transitions of that alert: \(same.map { "\($0.state.rawValue):\($0.severity.rawValue)@\(RFC3339.format($0.at))" })
                """)
        }
    }

    @Test("the exact output is the recorded one (regression)", arguments: names)
    func exactOutputIsRecorded(_ name: String) throws {
        let (_, out) = try Self.headless(name)
        let text = out.map(\.jsonLine).joined(separator: "\n") + "\n"
        let file = Self.scenarios.appendingPathComponent("expected/\(name).alerts.jsonl")
        if ProcessInfo.processInfo.environment["URGENTFLOW_REGENERATE"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        let recorded = try String(contentsOf: file, encoding: .utf8)
        #expect(text == recorded, "\(name): headless output differs from \(file.path); replay it and read the diff")
    }

    @Test("the same alerts at any replay speed", arguments: ["handover-crisis", "october-clock-change", "feed-outage"])
    func sameAlertsAtAnySpeed(_ name: String) throws {
        let (_, headless) = try Self.headless(name)
        let raw = try Self.lines(name).map { Array($0.utf8) }
        for speed in [60.0, 3600.0, 0] {
            var player = ReplayPlayer(config: try Self.config(), name: name, lines: raw, speed: speed)
            player.keepAllTransitions = true
            player.setPaused(false, wall: 0)
            var wall: Int64 = 0
            var guardSteps = 0
            while !player.isFinished && guardSteps < 2_000_000 {
                wall += 250   // a dashboard refresh
                _ = player.advance(wall: wall, maxLines: 500)
                guardSteps += 1
            }
            #expect(player.isFinished)
            #expect(player.recentTransitions.map(\.jsonLine) == headless.map(\.jsonLine), "\(name) at speed \(speed)")
        }
    }

    /// The `n` key: each stop is the tick of the transitions it shows, every transition of that
    /// tick, and the stops together are the headless timeline. It stopped a tick late (09:01 with
    /// the 09:00 transitions) after a line exactly on the minute.
    @Test("next alert transition stops at the tick of its transitions, with all of them", arguments: ["handover-crisis", "boxing-day-surge"])
    func nextTransitionStopsAtItsTick(_ name: String) throws {
        let (_, headless) = try Self.headless(name)
        var player = ReplayPlayer(config: try Self.config(), name: name, lines: try Self.lines(name).map { Array($0.utf8) }, speed: 60)
        player.keepAllTransitions = true
        player.setPaused(true, wall: 0)
        var all: [AlertTransition] = []
        var stops = 0, lateStops = 0
        while !player.isFinished {
            let batch = player.runToNextTransition()
            guard let first = batch.first else { break }
            stops += 1
            #expect(batch.allSatisfy { $0.at == first.at }, "one tick a stop: \(batch.map(\.jsonLine))")
            if !player.isFinished, player.playhead != first.at { lateStops += 1 }
            all += batch
        }
        #expect(stops > 10)
        #expect(lateStops == 0, "\(lateStops) of \(stops) stops were after their transitions' tick")
        #expect(all.map(\.jsonLine) == headless.map(\.jsonLine))
    }

    /// The header's feed health says whose feed is stale: its age is the freshest site's.
    @Test("a stale feed names its sites in the snapshot")
    func staleFeedNamesItsSites() throws {
        var r = HeadlessReplay(config: try Self.config())
        var firing = false
        for l in try Self.lines("feed-outage") where !firing {
            firing = r.feed(l).contains { $0.rule == "stale_bed" && $0.site == "RWG" && $0.state == .firing }
        }
        #expect(firing)
        let beds = try #require(r.engine.snapshot(historyPoints: 1).feeds.first { $0.feed == .bed })
        #expect(beds.stale)
        #expect(beds.staleSites == ["RWG"])
        #expect(try #require(beds.age) < .minutes(60), "another site's bed message is recent: the age alone says fresh")
    }

    /// The header's percentage is of the scenario's event time, not of its lines.
    @Test("replay progress is the share of the scenario's event time played")
    func progressIsEventTime() throws {
        let name = "handover-crisis"
        let lines = try Self.lines(name)
        let times = lines.compactMap { l -> EventTime? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any], let at = o["at"] as? String else { return nil }
            return RFC3339.parse(at)
        }
        let first = try #require(times.first), last = try #require(times.last)
        var player = ReplayPlayer(config: try Self.config(), name: name, lines: lines.map { Array($0.utf8) }, speed: 60)
        #expect(player.progress == 0)
        let middle = first + Duration(millis: (last - first).millis / 2)
        player.play(upTo: middle)
        #expect(abs(player.progress - 0.5) < 0.01, "\(player.progress)")
        #expect(abs(Double(player.next) / Double(lines.count) - 0.5) > 0.02, "the lines are not spread evenly over the day, or this test shows nothing")
        player.play(upTo: EventTime(millis: .max))
        #expect(player.progress == 1)
    }

    @Test("stepping one event at a time gives the same alerts")
    func steppingGivesTheSameAlerts() throws {
        let name = "winter-weekday"
        let (_, headless) = try Self.headless(name)
        var player = ReplayPlayer(config: try Self.config(), name: name, lines: try Self.lines(name).map { Array($0.utf8) }, speed: 60)
        player.keepAllTransitions = true
        while !player.isFinished { player.step() }
        // Stepping feeds lines without waiting for the playhead to pass each tick; the ticks
        // run when the next line arrives, exactly as in the headless replay.
        #expect(player.recentTransitions.map(\.jsonLine) == headless.map(\.jsonLine))
    }

    @Test("bad lines are rejected with a reason and the rest of the day still plays")
    func outageRejectsBadLinesAndKeepsGoing() throws {
        let (r, _) = try Self.headless("feed-outage")
        let reasons = Set(r.rejections.map(\.rejection.reason))
        for expected: RejectionReason in [.malformed, .unknownFeed, .unknownSite, .badType, .missingField, .outOfRange,
                                          .duplicateID, .futureTime, .identifiable, .unsupportedVersion] {
            #expect(reasons.contains(expected), "feed-outage has no \(expected.rawValue) rejection: \(r.rejections.map { HeadlessReplay.describe(line: $0.line, $0.rejection) })")
        }
        #expect(r.engine.acceptedTotal > 1000)
        for (line, rej) in r.rejections { #expect(!HeadlessReplay.describe(line: line, rej).isEmpty) }
    }

    /// The point of the trend rules: the lead hears before the critical level is reached.
    @Test("the early warning comes before the crisis", arguments: [
        ("handover-crisis", "handover_queue_trend", "handover_queue", "RWH"),
        ("boxing-day-surge", "ga_occupancy_trend", "ga_occupancy", "RWH"),
    ])
    func earlyWarningPrecedesTheCriticalLevel(_ c: (String, String, String, String)) throws {
        let (_, out) = try Self.headless(c.0)
        let critical = out.first { $0.rule == c.2 && $0.site == c.3 && $0.severity == .critical && ($0.state == .firing || $0.state == .severityChanged) }
        #expect(critical != nil)
        guard let critical else { return }
        let warned = out.first { $0.rule == c.1 && $0.site == c.3 && $0.state == .firing && $0.at < critical.at }
        #expect(warned != nil, "\(c.1) did not fire before \(c.2) went critical at \(RFC3339.format(critical.at))")
        if let w = warned { #expect(critical.at - w.at >= .minutes(30), "less than 30 minutes of warning") }
    }

    @Test("the sitrep counts handovers on the day of arrival in local days")
    func sitrepOfTheCrisisDay() throws {
        let (r, _) = try Self.headless("handover-crisis")
        let rows = r.sitrepRows
        let crisis = rows.first { $0.hasPrefix("2026-01-20,RWH,") }
        #expect(crisis != nil, "\(rows)")
        if let c = crisis?.split(separator: ",", omittingEmptySubsequences: false) {
            #expect(Int(c[2])! >= 75, "arrivals")
            #expect(Int(c[4])! > 0, "over-60 handovers on the crisis day")
            #expect(Double(c[5])! > 15, "hours lost")
        }
    }
}

/// The rule schedule (Rules/RuleSchedule.swift) skips ticks at which no rule can change. It must
/// give exactly what evaluating every rule at every tick gives: the same transitions (with their
/// values and sentences), the same sitrep, the same scores and active alerts at the end.
@Suite struct RuleScheduleEquivalenceTests {
    static func compare(_ lines: [String], _ label: String, config: SystemConfig? = nil) throws {
        let config = try config ?? ScenarioTimelineTests.config()
        var fast = HeadlessReplay(config: config, sitrep: true)
        var slow = HeadlessReplay(config: config, sitrep: true, evaluateEveryTick: true)
        var a: [String] = [], b: [String] = []
        for l in lines {
            a += fast.feed(l).map(\.jsonLine)
            b += slow.feed(l).map(\.jsonLine)
        }
        a += fast.finish().map(\.jsonLine)
        b += slow.finish().map(\.jsonLine)
        #expect(a.count > 0, "\(label): no transitions at all, so nothing was compared")
        if a != b {
            let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            Issue.record("\(label): transition \(i) differs:\n  scheduled: \(i < a.count ? a[i] : "none")\n  every tick: \(i < b.count ? b[i] : "none")")
        }
        #expect(fast.sitrepRows == slow.sitrepRows, "\(label): sitrep")
        #expect(fast.engine.rules.scores == slow.engine.rules.scores, "\(label): scores")
        #expect(fast.engine.rules.levels == slow.engine.rules.levels, "\(label): levels")
        let fa = fast.engine.rules.activeAlerts(model: fast.engine.model).map { "\($0.rule) \($0.site) \($0.state) \($0.summary)" }
        let sa = slow.engine.rules.activeAlerts(model: slow.engine.model).map { "\($0.rule) \($0.site) \($0.state) \($0.summary)" }
        #expect(fa == sa, "\(label): active alerts")
    }

    /// Rules reading a site's escalation score are made due when the score changes
    /// (`RuleEngine.setScore`), maybe after the evaluation has passed them (a rule listed before
    /// the score rule): the next due instant must then count them (`RuleSchedule.madeDueAgain`).
    /// The Herts system with thresholds on the OPEL level before the score rule and after it.
    @Test("rules reading the escalation score, before the score rule and after it: the schedule gives what evaluating every tick gives",
          arguments: ["boxing-day-surge", "handover-crisis"])
    func rulesReadingTheScore(_ name: String) throws {
        let path = ScenarioTimelineTests.scenarios.appendingPathComponent("herts-west-essex.yaml").path
        func opel(_ id: String, _ warning: Int) -> String {
            """
              - id: \(id)
                kind: threshold
                metric: opel_level
                units: [acute]
                direction: above
                warning: \(warning)
                critical: \(warning + 1)
                clear: \(warning - 1)
                for: 10m

            """
        }
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "\nrules:\n", with: "\nrules:\n" + opel("opel_before", 2))
            .replacingOccurrences(of: "\nnotifications:", with: "\n" + opel("opel_after", 2) + "notifications:")
        let config = try ConfigLoader.load(yaml: yaml, file: path)
        #expect(config.rules.first?.id == "opel_before" && config.rules.last?.id == "opel_after")
        try Self.compare(try ScenarioTimelineTests.lines(name), name + " with rules on the OPEL level", config: config)
    }

    @Test("every bundled scenario: the schedule gives what evaluating every tick gives", arguments: ScenarioName.allCases)
    func bundled(_ name: ScenarioName) throws {
        try Self.compare(try ScenarioTimelineTests.lines(name.rawValue), name.rawValue)
    }

    /// An ambulance `clear` changes no metric a rule reads, so it does not make the ambulance
    /// rules due while its feed is current (FlowModel.apply). A late one, current by its own
    /// time but arriving after the feed went stale by the clock, brings the feed back: its
    /// rules must be due, or the stale-feed alert and the queue (missing while stale) wait.
    @Test("a late ambulance clear after the feed went stale: the schedule gives what evaluating every tick gives")
    func lateClearAfterStaleness() throws {
        func at(_ h: Int, _ m: Int) -> String { "2026-01-13T\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):00Z" }
        func bed(_ h: Int, _ m: Int) -> String {
            #"{"feed":"bed","id":"RWH-bed-\#(h)\#(m)","at":"\#(at(h, m))","site":"RWH","ga_core_open":694,"ga_core_occupied":633,"esc_open":0,"esc_occupied":0,"closed":0,"ed_in_department":42,"ed_dta_waiting":12,"ed_over_12h":0}"#
        }
        func amb(_ kind: String, _ h: Int, _ m: Int) -> String {
            #"{"feed":"ambulance","id":"EEAST-1-\#(kind)","at":"\#(at(h, m))","site":"RWH","kind":"\#(kind)","incident":"inc-1"\#(kind == "arrived" ? #","category":2"# : "")}"#
        }
        var lines = [bed(8, 0), amb("arrived", 9, 0), amb("handover", 9, 10)]
        for h in 9...11 { lines += [bed(h, 30)] }
        lines.append(bed(12, 0))
        // The ambulance feed is stale from 10:40 (90 minutes); at 12:00 a clear stamped 10:35
        // arrives: current by its own time, and it brings the feed back until 12:05.
        lines.append(amb("clear", 10, 35))
        for h in 12...13 { lines += [bed(h, 30)] }
        try Self.compare(lines, "late clear")
    }

    /// A trend rule without an alert keeps its estimate when its value moves, if the lookahead's
    /// certificate shows no early warning up to it with the new value and the values sampled
    /// since (TrendCertificate). Ambulance queues wandering about the trend's threshold (9) in
    /// bursts and lulls. Tried against broken certificates: ignoring the values sampled since
    /// makes 8 of the 16 seeds differ, dropping the samples' term 10, letting a later return to
    /// the estimate's value through the plain `keeps` 8. (The current point's and the
    /// threshold's terms are dominated here by the others; TrendCertificateTests pins them.)
    @Test("ambulance queues wandering near the trend's threshold: the schedule gives what evaluating every tick gives",
          arguments: Array(UInt64(1)...16))
    func queueNearTrendThreshold(_ seed: UInt64) throws {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func random(_ n: Int) -> Int {   // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
        let start = 1_768_262_400   // 2026-01-13T00:00:00Z
        func at(_ s: Int) -> String { RFC3339.format(EventTime(millis: Int64(start + s) * 1000)) }
        var lines: [String] = [], queue: [Int] = [], next = 1, t = 0
        let target = 4 + random(6)   // the level the queue drifts about
        while t < 20 * 3600 {
            // Bursts (a few arrivals within minutes), lulls (up to 40 minutes), steady flow.
            switch random(10) {
            case 0: t += 60 * (10 + random(30))
            case 1, 2: t += 20 + random(100)
            default: t += 60 * (1 + random(8))
            }
            let arrive = queue.isEmpty || (queue.count < target + random(4) && random(3) != 0) || random(7) == 0
            if arrive {
                lines.append(#"{"feed":"ambulance","id":"A-\#(next)","at":"\#(at(t))","site":"RWH","kind":"arrived","incident":"inc-\#(next)","category":2}"#)
                queue.append(next)
                next += 1
            } else {
                let i = queue.remove(at: random(queue.count))
                lines.append(#"{"feed":"ambulance","id":"H-\#(i)","at":"\#(at(t))","site":"RWH","kind":"handover","incident":"inc-\#(i)"}"#)
            }
        }
        try Self.compare(lines, "queue near the trend threshold, seed \(seed)")
    }

    @Test("months of generated mixed feeds: the schedule gives what evaluating every tick gives", arguments: [UInt64(3), 11])
    func generated(_ seed: UInt64) throws {
        var lines: [String] = []
        ScenarioGenerator.generateBenchmark(messages: 25_000, seed: seed) { lines.append($0) }
        try Self.compare(lines, "benchmark seed \(seed)")
    }
}
