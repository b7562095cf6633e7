import Testing
@testable import FlowCore

@Suite struct ThresholdRuleTests {
    /// Bed state every 10 minutes at AAA with the given occupied counts (of 100 open).
    func occupancyLines(_ occupied: [Int], start: EventTime = t0) -> [String] {
        occupied.enumerated().map { i, o in bedLine("AAA", at(Int64(i) * 10, from: start), occupied: o) }
    }

    @Test func firesOnlyAfterTheRaiseDelay() {
        let config = testConfig(rules: [occupancyRule(for: .minutes(30))])
        // 93% from minute 0: pending at the first tick, firing 30 minutes later.
        let (_, out) = replay(config, occupancyLines(Array(repeating: 93, count: 8)))
        let states = out.filter { $0.site == "AAA" }.map(\.state)
        #expect(states.first == .pending)
        let firing = out.first { $0.state == .firing }
        #expect(firing != nil)
        #expect(firing!.at - out.first!.at == .minutes(30))
        #expect(firing!.severity == .warning)
        #expect(firing!.leadID == "a-warn", "the warning goes to the lead covering AAA warnings")
    }

    @Test("a firing warning whose value has passed the critical level says it is escalating while the delay runs")
    func escalationWaitingOutItsDelayIsSaid() {
        let config = testConfig(rules: [occupancyRule(for: .minutes(30))])
        // 93% for 40 minutes (warning fires at 30), then 97%: critical only after 30 more minutes.
        let (r, out) = replay(config, occupancyLines([93, 93, 93, 93, 93, 97]), finish: false)
        #expect(out.contains { $0.state == .firing && $0.severity == .warning })
        let alert = r.engine.rules.activeAlerts(model: r.engine.model).first { $0.site == "AAA" }
        #expect(alert?.severity == .warning)
        #expect(alert?.summary.hasSuffix("(critical at or above 95%) · escalating to critical") == true, "\(alert?.summary ?? "none")")
    }

    /// The alert panel and the grid read a growing wait at the same instant. The panel described
    /// the alert at the rule's last evaluation, and the schedule evaluates a wait rule only where
    /// it can cross a level: the panel said 45 minutes (a history sample's tick) while the grid said 47.
    @Test func anAlertIsDescribedAtTheClockTheGridReads() {
        let wait = RuleConfig.threshold(ThresholdRule(
            id: "wait", metric: .ambulanceLongestWaitMin, units: ["acute"], direction: .above,
            levels: ThresholdLevels(warning: 30, critical: 60, clear: 20, criticalClear: nil),
            raiseDelay: .zero, clearDelay: .zero))
        let config = testConfig(rules: [wait])
        let (r, out) = replay(config, [ambLine("AAA", at(0), kind: "arrived", incident: "w1")], finish: false)
        #expect(out.isEmpty)
        r.engine.advance(to: at(31))
        #expect(r.engine.drainTransitions().map(\.state) == [.firing])
        r.engine.advance(to: at(47))
        let snap = r.engine.snapshot()
        let grid = snap.sites.first { $0.code == "AAA" }?.metrics.first { $0.key == .ambulanceLongestWaitMin }?.value
        let panel = snap.alerts.first { $0.rule == "wait" && $0.site == "AAA" }
        #expect(grid == 47)
        #expect(panel?.value == 47, "panel \(panel?.value ?? -1), grid \(grid ?? -1)")
        #expect(panel?.summary.contains("47") == true, "\(panel?.summary ?? "no alert")")
    }

    /// A pending alert is not acknowledged: no lead has been told, and the notifications never
    /// carried it (the alert fired and escalated under an acknowledgement shown on screen).
    @Test func aPendingAlertIsNotAcknowledgedAFiringOneIs() {
        let config = testConfig(rules: [occupancyRule(for: .minutes(30))])
        let (r, out) = replay(config, occupancyLines([93, 93]), finish: false)
        #expect(out.map(\.state) == [.pending])
        #expect(!r.engine.acknowledge(rule: "occ", site: "AAA", by: "Priya Shah", note: nil, at: at(10)))
        #expect(r.engine.ackRefusal(rule: "occ", site: "AAA").contains("is pending: nothing to acknowledge until it fires"))
        r.engine.advance(to: at(31))
        #expect(r.engine.drainTransitions().map(\.state) == [.firing])
        #expect(r.engine.acknowledge(rule: "occ", site: "AAA", by: "Priya Shah", note: nil, at: at(31)))
        #expect(r.engine.ackRefusal(rule: "occ", site: "BBB") == "no active alert occ at BBB; no alert is firing at BBB")
        // Typed by hand: what is firing at the site, or why the rule or unit is not there.
        #expect(r.engine.ackRefusal(rule: "occupancy", site: "AAA") == "no active alert occupancy at AAA: occupancy is not a rule of this system; firing at AAA: occ")
        #expect(r.engine.ackRefusal(rule: "occ", site: "AAB").hasPrefix("no active alert occ at AAB: AAB is not a unit of this system (AAA, BBB"))
        #expect(r.engine.ackRefusal(rule: "occ", site: "AAB").hasSuffix(", SYSTEM)"))
        #expect(r.engine.ackRefusal(rule: "occ", site: "BBB", justCleared: true) == "no active alert occ at BBB (it may have just cleared)")
    }

    @Test func aBriefSpikeIsCancelledNotFired() {
        let config = testConfig(rules: [occupancyRule(for: .minutes(30))])
        let (_, out) = replay(config, occupancyLines([85, 93, 93, 85, 85, 85, 85]))
        #expect(out.map(\.state) == [.pending, .cancelled])
    }

    /// The raise delay's condition is the level itself: a pending alert has no hysteresis, so a
    /// value back between clear and warning cancels it. It was held, and fired at 91% as
    /// "warning until below 90%" to a lead whose level is 92% (now "until back to 90%").
    @Test func aPendingAlertBackInsideItsLevelIsCancelledNotHeldByTheClearLevel() {
        let config = testConfig(rules: [occupancyRule(for: .minutes(30))])
        let (_, out) = replay(config, occupancyLines([93, 91, 91, 91, 91, 91, 91, 93, 93, 93, 93, 93]))
        #expect(out.map(\.state) == [.pending, .cancelled, .pending, .firing])
        #expect(out[1].at == at(10))
        #expect(out[3].at == at(100), "30 minutes after the second 93%")
        #expect(out[3].value == 93)
    }

    /// A value at a level has reached it, and the sentence says so: "(warning above 92%)" of a
    /// value of 92% read to the lead as not yet there, and "until below 90%" of an alert that
    /// clears at 90% as needing less (user test, 2026-11-25).
    @Test func theSentenceSaysAValueAtTheLevelHasReachedIt() {
        let config = testConfig(rules: [occupancyRule(for: .zero, clearFor: .zero)])
        let (r, out) = replay(config, occupancyLines([92, 92, 91]), finish: false)
        #expect(out.first?.state == .firing)
        #expect(out.first?.summary.hasSuffix("92% (warning at or above 92%)") == true, "\(out.first?.summary ?? "none")")
        let held = r.engine.rules.activeAlerts(model: r.engine.model).first { $0.site == "AAA" }
        #expect(held?.summary.hasSuffix("91% (warning until back to 90%)") == true, "\(held?.summary ?? "none")")
        let below = RuleConfig.threshold(ThresholdRule(
            id: "low", metric: .gaOccupancyPct, units: ["acute"], direction: .below,
            levels: ThresholdLevels(warning: 50, critical: nil, clear: nil, criticalClear: nil),
            raiseDelay: .zero, clearDelay: .zero))
        let (_, low) = replay(testConfig(rules: [below]), occupancyLines([50, 50]), finish: false)
        #expect(low.first?.summary.hasSuffix("50% (warning at or below 50%)") == true, "\(low.first?.summary ?? "none")")
    }

    /// A firing alert back within its levels waits out its clear delay: its sentence says it is
    /// resolving and when, where a critical "Longest wait 9.9 min" with nothing after it read as
    /// a critical 9.9-minute wait (trainer's user test, 2026-11-25).
    @Test func anAlertWaitingOutItsClearDelaySaysItIsResolvingAndWhen() {
        let config = testConfig(rules: [occupancyRule(for: .zero, clearFor: .minutes(60))])
        let (r, out) = replay(config, occupancyLines([93, 89, 89]), finish: false)
        #expect(out.map(\.state) == [.firing])
        let alert = r.engine.rules.activeAlerts(model: r.engine.model).first { $0.site == "AAA" }
        let due = r.engine.model.calendar.clockText(at(70))
        #expect(alert?.summary.hasSuffix("occ 89% · resolving at \(due)") == true, "\(alert?.summary ?? "none")")
    }

    @Test func hysteresisHoldsBetweenClearAndWarning() {
        let config = testConfig(rules: [occupancyRule(for: .zero, clearFor: .zero)])
        // Fires at 93, holds at 91 (between clear 90 and warning 92), resolves at 89.
        let (_, out) = replay(config, occupancyLines([93, 91, 91, 91, 89, 89]))
        #expect(out.map(\.state) == [.firing, .resolved])
        let resolved = out.last!
        #expect(resolved.at == at(40), "a tick sees every message at or before it: resolves at the 89% reading's minute")
        #expect(resolved.value == 89)
    }

    @Test func clearDelayAndSeverityChanges() {
        let config = testConfig(rules: [occupancyRule(for: .zero, clearFor: .minutes(20))])
        // 93 (warning) -> 96 (critical) -> 93 (critical holds: critical_clear is 93, value must be below it)
        let (_, out) = replay(config, occupancyLines([93, 96, 93, 92, 92, 92, 85, 85, 85, 85]))
        let kinds = out.map { "\($0.state.rawValue):\($0.severity.rawValue)" }
        #expect(kinds == ["firing:warning", "severity_changed:critical", "severity_changed:warning", "resolved:warning"])
        #expect(out[1].leadID == "a-crit", "critical goes to the lead covering AAA criticals")
        // Step down: 93 at minute 20 is at critical_clear (95 - (92 - 90)), which counts as cleared;
        // held 20 minutes -> minute 40. Resolve: 85 from minute 60, held 20 minutes -> minute 80.
        #expect(out[2].at == at(40))
        #expect(out[3].at == at(80))
    }

    @Test func directionBelowAndPerSiteOverrides() {
        let rule = RuleConfig.threshold(ThresholdRule(
            id: "ans", metric: .nhs111AnsweredWithin60sPct, units: ["nhs111"], direction: .below,
            levels: ThresholdLevels(warning: 70, critical: 50, clear: 75, criticalClear: nil)))
        let config = testConfig(rules: [rule])
        let lines = (0..<4).map { line111(at(Int64($0) * 15), answered: 100, within: 60) }
        let (_, out) = replay(config, lines)
        #expect(out.first?.state == .firing && out.first?.severity == .warning && out.first?.value == 60)

        let o = ThresholdRule(id: "o", metric: .gaOccupancyPct, units: ["acute"], direction: .above,
                              levels: ThresholdLevels(warning: 92, critical: 95, clear: 90, criticalClear: nil),
                              overrides: ["BBB": ThresholdLevels(warning: 97, critical: 99, clear: nil, criticalClear: nil)])
        #expect(o.levels(for: "BBB").warning == 97 && o.levels(for: "BBB").clear == 90)
        #expect(o.levels(for: "AAA").criticalClear == 93)
    }

    @Test func targetSeverityTable() {
        let l = ThresholdLevels(warning: 92, critical: 95, clear: 90, criticalClear: 93)
        #expect(RuleEngine.thresholdTarget(value: 91, direction: .above, levels: l, current: nil) == nil)
        #expect(RuleEngine.thresholdTarget(value: 91, direction: .above, levels: l, current: .warning) == .warning)
        #expect(RuleEngine.thresholdTarget(value: 90, direction: .above, levels: l, current: .warning) == nil)
        #expect(RuleEngine.thresholdTarget(value: 94, direction: .above, levels: l, current: .critical) == .critical)
        #expect(RuleEngine.thresholdTarget(value: 92.5, direction: .above, levels: l, current: .critical) == .warning)
        #expect(RuleEngine.thresholdTarget(value: 95, direction: .above, levels: l, current: nil) == .critical)
    }
}

@Suite struct StaleAndUnknownTests {
    let staleBed = RuleConfig.stale(StaleRule(id: "stale_bed", feed: .bed, units: ["AAA"], expected: .hours(2), criticalAfter: .hours(4)))

    @Test func staleFeedFiresEscalatesAndResolvesOnTheNextMessage() {
        let config = testConfig(rules: [staleBed])
        // AAA sends at 00:00 then goes silent; 111 keeps the clock moving; AAA returns at 05:00.
        var lines = [bedLine("AAA", t0, occupied: 80)]
        for k in 1...20 { lines.append(line111(at(Int64(k) * 15))) }
        lines.append(bedLine("AAA", at(300), occupied: 80))
        lines.append(line111(at(305)))
        let (_, out) = replay(config, lines)
        #expect(out.map(\.state) == [.firing, .severityChanged, .resolved])
        #expect(out[0].at == at(121) && out[0].severity == .warning)
        #expect(out[1].at == at(241) && out[1].severity == .critical)
        #expect(out[2].at == at(300))
        // What the lead reads: how long the silence has lasted, then that the feed is current
        // (the resolved summary said "No Beds data ... for 0m").
        #expect(out[0].summary.hasPrefix("No Beds data from ") && out[0].summary.contains(" for 2h01m (expected every 2h)"))
        #expect(out[2].summary.hasPrefix("Beds data from ") && out[2].summary.hasSuffix(" is current (latest under a minute ago, expected every 2h)"))
    }

    /// The `held` mark urgentflow journals when the journal writes again: the input was held
    /// from `from` to `until` minutes after midnight.
    static func held(_ from: Int64, _ until: Int64) -> String {
        OperatorAction.held(from: at(from), until: at(until)).jsonLine
    }

    @Test("a hold of the input is not a feed's silence: its stale alert comes that much later")
    func holdIsNotSilence() {
        let config = testConfig(rules: [staleBed])
        for everyTick in [false, true] {
            var r = HeadlessReplay(config: config, evaluateEveryTick: everyTick)
            var out: [AlertTransition] = []
            out += r.feed(bedLine("AAA", t0, occupied: 80))
            out += r.feed(line111(at(15)))
            out += r.feed(Self.held(30, 150))   // 00:30 to 02:30: two hours not counted
            for k in 2...24 { out += r.feed(line111(at(Int64(k) * 15))) }
            out += r.finish()
            #expect(r.engine.model.inputHolds.count == 1)
            // Silent from 00:00; the 2 h expected and 4 h critical pass at 04:00 and 06:00 less
            // the hold's 2 h counted: 04:01 and 06:01.
            #expect(out.map(\.state) == [.firing, .severityChanged], "every tick \(everyTick)")
            #expect(out.first?.at == at(241) && out.last?.at == at(361), "\(out.map { RFC3339.format($0.at) })")
            // The lead reads how long the data has been missing, and how much of that was the hold.
            #expect(out.first?.summary.hasSuffix("for 4h01m (2h of it while urgentflow held its input; expected every 2h)") == true,
                    "\(out.first?.summary ?? "")")
        }
    }

    @Test("a feed already stale when the input was held stays stale through the hold and after it")
    func staleBeforeTheHoldStaysStale() {
        let config = testConfig(rules: [staleBed])
        var lines = [bedLine("AAA", t0, occupied: 80)]
        for k in 1...10 { lines.append(line111(at(Int64(k) * 15))) }   // to 02:30: stale from 02:01
        lines.append(Self.held(150, 210))
        for k in 11...26 { lines.append(line111(at(Int64(k) * 15))) }   // to 06:30
        let (_, out) = replay(config, lines)
        #expect(out.map(\.state) == [.firing, .severityChanged], "never resolved by the hold")
        #expect(out.first?.at == at(121) && out.last?.at == at(301))   // 04:00 + the hour held
    }

    @Test("a live source cannot declare a hold; recovery from the journal applies it")
    func holdsComeFromTheJournalOnly() {
        let config = testConfig(rules: [staleBed])
        let live = FlowEngine(config: config, mode: .live)
        #expect(live.ingest(Self.held(30, 150), receivedAt: at(151)) == .operatorAction(OperatorAction.held(from: at(30), until: at(150)), applied: false))
        #expect(live.model.inputHolds.isEmpty)
        let recovering = FlowEngine(config: config, mode: .live)
        _ = Self.held(30, 150).utf8CString.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: UInt8.self) { recovering.recover(UnsafeBufferPointer(rebasing: $0.dropLast())) }
        }
        #expect(recovering.model.inputHolds.count == 1)
        // The journal line reads back as written.
        #expect(OperatorAction.parse(Self.held(30, 150)).flatMap { try? $0.get() } == OperatorAction.held(from: at(30), until: at(150)))
    }

    @Test("silence less the holds, and when it reaches a length")
    func silenceArithmetic() {
        var model = FlowModel(config: testConfig())
        model.inputHeld(from: at(60), until: at(120))
        model.inputHeld(from: at(100), until: at(130))   // overlaps: merged to 01:00-02:10
        model.inputHeld(from: at(200), until: at(210))
        #expect(model.inputHolds.count == 2)
        #expect(model.silence(from: t0, to: at(60)) == .minutes(60))
        #expect(model.silence(from: t0, to: at(100)) == .minutes(60))    // inside the hold: still
        #expect(model.silence(from: t0, to: at(300)) == .minutes(220))
        #expect(model.silence(from: at(110), to: at(140)) == .minutes(10))
        #expect(model.silenceReaches(.minutes(60), from: t0) == at(60))   // the hold begins just then
        #expect(model.silenceReaches(.minutes(61), from: t0) == at(131))
        #expect(model.silenceReaches(.minutes(140), from: t0) == at(220))
        #expect(model.silenceReaches(.minutes(5), from: at(205)) == at(215))
    }

    @Test("durations under a minute are in seconds, not 0m")
    func shortDurations() {
        #expect(Format.duration(.seconds(45)) == "45s")
        #expect(Format.duration(.zero) == "0m")
        #expect(Format.duration(.minutes(1)) == "1m")
        #expect(Format.duration(.minutes(125)) == "2h05m")
    }

    @Test func rulesOnStaleDataBecomeUnknownNeverResolved() {
        let config = testConfig(rules: [staleBed, occupancyRule(for: .zero, clearFor: .zero)])
        var lines = [bedLine("AAA", t0, occupied: 96)]
        for k in 1...12 { lines.append(line111(at(Int64(k) * 15))) }   // 3 h of silence from AAA
        lines.append(bedLine("AAA", at(185), occupied: 96))
        lines.append(line111(at(190)))
        let (_, out) = replay(config, lines)
        let occ = out.filter { $0.rule == "occ" }
        #expect(occ.map(\.state) == [.firing, .unknown, .firing], "stale data: unknown, then firing again when it returns")
        #expect(occ[1].value == nil)
        #expect(!occ.contains { $0.state == .resolved })
    }

    @Test func missingDataIsNilNeverZero() {
        let config = testConfig()
        var model = FlowModel(config: config)
        model.advance(to: t0)
        #expect(model.value(.gaOccupancyPct, site: 0) == nil)
        #expect(model.value(.ambulanceQueue, site: 0) == nil)
        #expect(model.value(.dtocPatients, site: 0) == nil)
        #expect(model.value(.nhs111AnsweredWithin60sPct, site: 3) == nil)
        #expect(model.value(.gaOccupancyPct, site: config.units.count) == nil, "system roll-up with no data is missing")
    }
}

@Suite struct TrendAndScoreTests {
    @Test func trendWarnsBeforeTheCrossingWithTimeToBreach() {
        let rule = RuleConfig.trend(TrendRule(id: "trend", metric: .gaOccupancyPct, units: ["AAA"], direction: .above,
                                              threshold: 95, window: .hours(2), horizon: .hours(3), severity: .warning,
                                              raiseDelay: .zero, clearDelay: .zero))
        let config = testConfig(rules: [rule])
        // +1 point per 30 minutes from 85%: 2 points/hour, reaches 95% after 5 h.
        let lines = (0...9).map { bedLine("AAA", at(Int64($0) * 30), occupied: 85 + $0 / 1) }
        let (_, out) = replay(config, lines.enumerated().map { i, _ in bedLine("AAA", at(Int64(i) * 30), occupied: 85 + i) })
        _ = lines
        let firing = out.first { $0.state == .firing }
        #expect(firing != nil)
        // It fires once the projected crossing is within 3 h: value is minutes to breach.
        if let f = firing {
            #expect(f.value! <= 180 && f.value! > 0)
            #expect(f.summary.contains("will pass 95%"))
            #expect(f.at >= at(60), "needs at least half the window of history")
        }
    }

    @Test func flatSeriesGivesNoTrendAlert() {
        let rule = RuleConfig.trend(TrendRule(id: "trend", metric: .gaOccupancyPct, units: ["AAA"], direction: .above,
                                              threshold: 95, window: .hours(1), horizon: .hours(3)))
        let (_, out) = replay(testConfig(rules: [rule]), (0..<30).map { bedLine("AAA", at(Int64($0) * 10), occupied: 93) })
        #expect(out.isEmpty)
    }

    @Test func scorePointsLevelsAndSystemRollUp() {
        let score = ScoreRule(id: "opel", units: ["acute"], parameters: [
            .init(metric: .gaOccupancyPct, direction: .above, bands: [(92, 0), (95, 2), (98, 4)]),
            .init(metric: .edOver12h, direction: .above, bands: [(5, 1), (10, 3)]),
        ], levels: [0, 2, 4, 6], warningLevel: 3, criticalLevel: 4)
        #expect(score.parameters[0].points(for: 96) == 2)
        #expect(score.parameters[0].points(for: 99) == 4)
        #expect(score.parameters[0].points(for: 50) == 0)
        #expect(score.level(for: 0) == 1 && score.level(for: 4) == 3 && score.level(for: 7) == 4)
        let config = testConfig(rules: [.score(score)])
        let lines = [bedLine("AAA", t0, occupied: 99, extra: ",\"ed_over_12h\":12"),
                     bedLine("BBB", t0, occupied: 50, extra: ",\"ed_over_12h\":0"),
                     bedLine("AAA", at(5), occupied: 99, extra: ",\"ed_over_12h\":12")]
        let (r, out) = replay(config, lines)
        // AAA: 4 + 3 = 7 -> level 4 (critical). BBB: 0 -> level 1. System: 0.6*7 + 0.4*0 = 4.2 -> level 3.
        let aaa = out.first { $0.site == "AAA" }
        #expect(aaa?.state == .firing && aaa?.severity == .critical && aaa?.value == 4)
        let sys = out.first { $0.site == "SYSTEM" }
        #expect(sys?.severity == .warning && sys?.value == 3)
        #expect(sys?.leadID == "a-crit", "SYSTEM alerts go to the lead covering SYSTEM")
        #expect(r.engine.rules.levels[1] == 1)
        #expect(abs((r.engine.rules.scores[config.units.count] ?? 0) - 4.2) < 1e-9)
    }
}

@Suite struct AlertLifecycleTests {
    /// The engine's per-key flags (`RuleEngine.alerting`), which spare the evaluations a look-up
    /// in `alerts`, say exactly which alerts it holds as alerts fire, are acknowledged, resolve
    /// and fire again.
    @Test("the alert flags are the alerts held, through firing, acknowledging and resolving")
    func alertFlagsAreTheAlertsHeld() {
        let staleBed = RuleConfig.stale(StaleRule(id: "stale_bed", feed: .bed, units: ["AAA"], expected: .hours(2), criticalAfter: .hours(4)))
        let config = testConfig(rules: [staleBed, occupancyRule(for: .zero, clearFor: .zero)])
        var replay = HeadlessReplay(config: config, sitrep: false)
        let engine = replay.engine
        var firedAndResolved = Set<String>()
        func check(_ when: String) {
            let rules = engine.rules
            var held = 0
            for rule in config.rules.indices {
                for site in 0...config.units.count {
                    let key = RuleEngine.AlertKey(rule: rule, site: site)
                    #expect(rules.hasAlert(key) == (rules.alerts[key] != nil), "rule \(rule) site \(site), \(when)")
                    if rules.hasAlert(key) { held += 1 }
                }
            }
            #expect(held == rules.alerts.count, "\(when)")
        }
        let lines = [bedLine("AAA", t0, occupied: 96), bedLine("BBB", at(1), occupied: 97),
                     bedLine("AAA", at(20), occupied: 80), bedLine("BBB", at(30), occupied: 96),
                     bedLine("AAA", at(40), occupied: 99), bedLine("BBB", at(50), occupied: 70)]
        for (i, l) in lines.enumerated() {
            for t in replay.feed(l) { firedAndResolved.insert("\(t.site) \(t.state)") }
            check("after line \(i)")
            // After line 3: line 2, 19 minutes after line 1, is held until line 3 comes (and
            // the ticks before it with it; ReplayClockJumpTests).
            if i == 3 { #expect(engine.acknowledge(rule: "occ", site: "BBB", by: "Ann", note: String?.none, at: at(20))) }
        }
        for t in replay.finish() { firedAndResolved.insert("\(t.site) \(t.state)") }
        engine.advance(to: at(600))   // the bed feed goes stale
        check("after the feed went stale")
        #expect(firedAndResolved.contains("AAA firing") && firedAndResolved.contains("AAA resolved"), "\(firedAndResolved)")
    }

    @Test func unknownWhilePendingCancels() {
        var a = AlertLifecycle()
        #expect(a.step(.known(target: .warning, value: 1, summary: ""), now: t0, raiseDelay: .minutes(5), clearDelay: .zero) == [.pending])
        #expect(a.step(.unknown(summary: ""), now: at(1), raiseDelay: .minutes(5), clearDelay: .zero) == [.cancelled])
        #expect(!a.isActive)
    }

    @Test func unknownIsReportedOnceAndRecovers() {
        var a = AlertLifecycle()
        _ = a.step(.known(target: .critical, value: 1, summary: ""), now: t0, raiseDelay: .zero, clearDelay: .zero)
        #expect(a.step(.unknown(summary: ""), now: at(1), raiseDelay: .zero, clearDelay: .zero) == [.unknown])
        #expect(a.step(.unknown(summary: ""), now: at(2), raiseDelay: .zero, clearDelay: .zero) == [])
        #expect(a.step(.known(target: .critical, value: 1, summary: ""), now: at(3), raiseDelay: .zero, clearDelay: .zero) == [.firing])
        #expect(a.severity == .critical)
    }

    @Test func escalationNeedsTheRaiseDelayToo() {
        var a = AlertLifecycle()
        _ = a.step(.known(target: .warning, value: 1, summary: ""), now: t0, raiseDelay: .zero, clearDelay: .zero)
        #expect(a.step(.known(target: .critical, value: 2, summary: ""), now: at(1), raiseDelay: .minutes(10), clearDelay: .zero) == [])
        #expect(a.step(.known(target: .critical, value: 2, summary: ""), now: at(11), raiseDelay: .minutes(10), clearDelay: .zero) == [.severityChanged])
    }
}

/// The bound a trend rule's certificate puts on a new current value (TrendCertificate, in
/// RuleSchedule.swift): each tick's `past + margin` moves by at most `gc |dv| + gs |ds| +
/// max(0, -dneed) cxx` (plus the margin's growth), and the estimate stands only while the worst
/// tick stays below zero. The threshold 9 above, over a 2 h horizon: `need` is the distance over 2.
@Suite struct TrendCertificateTests {
    func certificate(value: Double = 2, worst: Double, gc: Double, gs: Double, cxx: Double) -> TrendCertificate {
        var c = TrendCertificate(value: value, sampled: value, need: abs(9 - value) / 2, sample: EventTime(millis: 0))
        c.add(worst: worst, gc: gc, gs: gs, cxx: cxx, scale: 20)
        return c
    }
    func holds(_ c: TrendCertificate, _ v: Double, sampledWithin: Double = 0) -> Bool {
        c.holds(for: v, samplesWithin: sampledWithin, direction: .above, threshold: 9, horizon: .hours(2))
    }

    @Test("the value it was made with, nothing sampled since: it stands")
    func sameValue() {
        #expect(holds(certificate(worst: -1, gc: 0.5, gs: 1, cxx: 3.5), 2))
    }

    @Test("a value nearer the threshold needs less slope for a warning: the gap that closes is counted")
    func nearerThreshold() {
        // 2 -> 2.5: the slope moves by at most 0.5 * 0.5 + 1 * 0.5, and `need` falls by 0.25 per
        // hour, over cxx 3.5: 0.875 more. Together past the worst tick's gap of 1.
        let c = certificate(worst: -1, gc: 0.5, gs: 1, cxx: 3.5)
        #expect(!holds(c, 2.5))
        #expect(holds(c, 2.1))
    }

    @Test("the current point's pull on the slope is counted")
    func currentPoint() {
        // Little spread (cxx 0.1): `need` matters little; the current point's coefficient does.
        let c = certificate(worst: -0.5, gc: 0.8, gs: 0, cxx: 0.1)
        #expect(!holds(c, 3))       // 0.8 + 0.05 over the gap of 0.5
        #expect(holds(c, 2.5))      // 0.4 + 0.025
    }

    @Test("values the history sampled since, away from the one assumed, are counted")
    func sampledSince() {
        let c = certificate(worst: -1, gc: 0, gs: 1, cxx: 3.5)
        #expect(!holds(c, 2, sampledWithin: 1))
        #expect(holds(c, 2, sampledWithin: 0.5))
    }

    @Test("past the threshold, or with every tick short of points, any value stands; a lookahead the exact fit decided, none")
    func edges() {
        #expect(holds(certificate(worst: -0.1, gc: 5, gs: 5, cxx: 5), 9.5))
        var unknown = TrendCertificate(value: 2, sampled: 2, need: 3.5, sample: EventTime(millis: 0))
        #expect(holds(unknown, 8.9, sampledWithin: 7))
        unknown.valid = false
        #expect(!holds(unknown, 2))
    }
}

/// The trend lookahead's quiet stretches (TrendScan.quietStretch, in RuleSchedule.swift): where
/// it calls a run of ticks quiet at once, calling each tick on its own finds every one quiet, and
/// the certificate it takes bounds the one the ticks take one by one. Random windows of history,
/// each with thresholds spread about the fit's own slope, so that stretches end near an early
/// warning, some of them with the slope's turn inside the stretch.
@Suite struct TrendScanTests {
    /// The least-squares slope per hour of `points` and the current value at `now` (what the
    /// scan's first call weighs).
    static func slope(_ points: [(EventTime, Double)], _ v: Double, _ now: EventTime) -> Double {
        let xs = points.map { Double($0.0.millis) / 3_600_000 } + [Double(now.millis) / 3_600_000], ys = points.map(\.1) + [v]
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        var cxx = 0.0, cxy = 0.0
        for (x, y) in zip(xs, ys) { cxx += (x - mx) * (x - mx); cxy += (x - mx) * (y - my) }
        return cxy / cxx
    }

    @Test("a stretch called quiet at once is quiet at every tick, and its certificate bounds theirs")
    func stretchesAgreeWithTicks() {
        var random = SplitMix(seed: 7)   // FeedDecoderTests.swift
        let step = Duration.minutes(5), tick = Duration.minutes(1)
        var stretches = 0, ticksInStretches = 0, refused = 0
        for _ in 0..<400 {
            let window = Duration.hours(Int64(1 + random.below(3)))
            let count = Int(window.millis / step.millis) + 1 - random.below(3)
            let sample = EventTime(millis: 1_768_262_400_000 + Int64(random.below(100)) * step.millis)
            var y = 5 + 10 * Double.random(in: 0..<1, using: &random), points: [(EventTime, Double)] = []
            for k in 0..<count {
                y = max(0, y + Double(random.below(5) - 2) * Double.random(in: 0..<1, using: &random) * 2)
                points.append((sample - Duration(millis: Int64(count - 1 - k) * step.millis), Double(Float(y))))
            }
            let now = sample + Duration.minutes(Int64(random.below(5)))
            let v = max(0, y + Double(random.below(3) - 1))
            let origin = points[0].0
            var sums = (n: 0.0, sx: 0.0, sy: 0.0, sxx: 0.0, sxy: 0.0)
            for (t, y) in points {
                let x = (t - origin).hoursValue
                sums.n += 1; sums.sx += x; sums.sy += y; sums.sxx += x * x; sums.sxy += x * y
            }
            let s = Self.slope(points, v, now)
            let direction: Direction = s >= 0 ? .above : .below
            let horizon = Duration.hours(Int64(1 + random.below(4)))
            for j in 0..<24 {
                // Thresholds whose slope needed ranges about the fit's own, from half to twice it.
                let need = abs(s) * (0.5 + 1.5 * Double(j) / 23)
                let threshold = v + (direction == .above ? 1 : -1) * need * horizon.hoursValue
                points.withUnsafeBufferPointer { buffer in
                    var scan = TrendScan(points: buffer, origin: origin, sample: sample, step: step, window: window,
                                         horizon: horizon, threshold: threshold, direction: direction, value: v, sums: sums)
                    _ = scan.call(now)
                    scan.take()
                    let end = now + Duration.minutes(30)
                    var at = now.floored(to: tick) + tick
                    while at < end {
                        var stretch = scan
                        guard let through = stretch.quietStretch(from: at, tick: tick, before: end) else {
                            refused += 1
                            _ = scan.call(at)
                            scan.take()
                            at = at + tick
                            continue
                        }
                        stretches += 1
                        var u = at
                        while u <= through {
                            let call = scan.call(u)
                            #expect(call == .quiet, "tick \(RFC3339.format(u)) of a quiet stretch to \(RFC3339.format(through))")
                            scan.take()
                            ticksInStretches += 1
                            u = u + tick
                        }
                        let a = scan.certified, b = stretch.certified
                        let close = { (x: Double, y: Double) in x <= y + 1e-9 * max(1, abs(y)) }
                        #expect(close(a.worst, b.worst) && close(a.gc, b.gc) && close(a.gs, b.gs)
                                && close(a.cxx, b.cxx) && close(a.scale, b.scale),
                                "the stretch's certificate \(b) does not bound the ticks' \(a)")
                        scan.certified = b   // go on from the stretch's, as the lookahead does
                        at = through + tick
                    }
                }
            }
        }
        // Enough of both to mean something (the counts of this seed, give or take).
        #expect(stretches > 10_000 && ticksInStretches > 2 * stretches && refused > 1_000)
    }
}

@Suite struct MetricReadsTests {
    /// The rules' reads at one instant are kept for the model's version (`MetricReads`): a
    /// message at that instant changes the version, a score does not.
    @Test("a kept read is the model's own: after a message at the same instant, after a score, later")
    func keptReadsFollowTheModel() throws {
        let config = testConfig()
        var decoder = FeedDecoder(units: config.units)
        var model = FlowModel(config: config)
        var reads = MetricReads(sites: config.units.count + 1)
        let now = at(10)
        model.advance(to: now)
        func apply(_ line: String) throws { #expect(model.apply(try decoder.decode(line).get()) == nil) }
        func direct(_ m: MetricKey, _ site: Int, _ t: EventTime) -> RuleSchedule.Basis {
            .init(value: model.value(m, site: site, at: t), stable: model.stableUntil(m, site: site, from: t))
        }
        let system = config.units.count
        #expect(reads.basis(.gaOccupancyPct, site: 0, model: model, now: now).value == nil)
        try apply(bedLine("AAA", now, occupied: 90))
        #expect(reads.basis(.gaOccupancyPct, site: 0, model: model, now: now).value == 90)
        #expect(reads.basis(.gaOccupancyPct, site: system, model: model, now: now) == direct(.gaOccupancyPct, system, now))
        try apply(bedLine("AAA", now, occupied: 96))   // the same instant, new data
        #expect(reads.basis(.gaOccupancyPct, site: 0, model: model, now: now).value == 96)
        #expect(reads.basis(.gaOccupancyPct, site: 0, model: model, now: now) == direct(.gaOccupancyPct, 0, now))
        #expect(reads.basis(.gaOccupancyPct, site: system, model: model, now: now) == direct(.gaOccupancyPct, system, now))
        // A score is set within an evaluation, the model's version unchanged.
        model.setScore(site: 0, score: 3, level: 2)
        #expect(reads.basis(.opelScore, site: 0, model: model, now: now).value == 3)
        model.setScore(site: 0, score: 5, level: 3)
        #expect(reads.basis(.opelScore, site: 0, model: model, now: now).value == 5)
        // Later, the same version: the data has gone stale.
        let later = now + FlowModel.defaultMaxAge + .minutes(1)
        model.advance(to: later)
        #expect(reads.basis(.gaOccupancyPct, site: 0, model: model, now: later) == direct(.gaOccupancyPct, 0, later))
        #expect(reads.basis(.gaOccupancyPct, site: 0, model: model, now: later).value == nil)
    }
}

/// An acknowledgement or silence from a live source is held to the clock as a feed line is:
/// any producer could send one dated a month ahead (held for a month without repeats or
/// escalation), yesterday (taken although expired) or a silence to Christmas Day (replacing the
/// site's silence in force): the operators' user test.
@Suite struct LiveOperatorClockTests {
    static func ack(_ at: EventTime) -> String {
        OperatorAction(id: "ack-\(at.millis)", at: at, kind: .acknowledge(rule: "occ", site: "AAA", by: "Priya Shah", note: nil)).jsonLine
    }
    static func silence(_ at: EventTime, until: EventTime) -> String {
        OperatorAction(id: "s-\(at.millis)", at: at, kind: .silence(site: "AAA", rule: nil, until: until, by: "Priya Shah", reason: "system call")).jsonLine
    }

    /// "no unit RWH or no rule handover_longest to silence" named neither, listed nothing, and a
    /// rule silenced at a unit it is not evaluated at was taken (the operators' user test).
    @Test("a silence is refused naming why: the unit, the rule, or the rule not evaluated at the unit")
    func silenceRefusalsSayWhy() {
        let occ = ThresholdRule(id: "occ", metric: .gaOccupancyPct, units: ["acute"], direction: .above,
                                levels: ThresholdLevels(warning: 92, critical: 95, clear: 90, criticalClear: nil))
        let engine = FlowEngine(config: testConfig(rules: [.threshold(occ)]), mode: .live)
        #expect(engine.silenceRefusal(site: "AAA", rule: nil) == nil)
        #expect(engine.silenceRefusal(site: "AAA", rule: "occ") == nil)
        #expect(engine.silenceRefusal(site: "RWX", rule: nil) == "RWX is not a unit of this system (AAA, BBB, COM, 111, AMB, SYSTEM)")
        #expect(engine.silenceRefusal(site: "AAA", rule: "occupancy") == "occupancy is not a rule of this system")
        #expect(engine.silenceRefusal(site: "AMB", rule: "occ") == "occ is not evaluated at AMB (only at AAA, BBB)")
        let line = OperatorAction(id: "s1", at: at(0), kind: .silence(site: "AMB", rule: "occ", until: at(60), by: "Priya Shah", reason: "x")).jsonLine
        guard case .operatorAction(_, applied: false) = engine.ingest(line, receivedAt: at(0)) else { Issue.record("applied"); return }
    }

    @Test("live, an acknowledgement or silence dated away from the clock, or a silence over 7 days, is refused; one from the journal is not")
    func operatorLinesAreHeldToTheClock() {
        let config = testConfig()
        let engine = FlowEngine(config: config, mode: .live)
        let wall = at(600)
        func reason(_ line: String) -> RejectionReason? {
            if case .rejected(let r) = engine.ingest(line, receivedAt: wall) { return r.reason }
            return nil
        }
        #expect(reason(Self.ack(wall + .hours(24 * 30))) == .futureTime)
        #expect(reason(Self.ack(wall - .hours(24))) == .tooLate)
        #expect(reason(Self.silence(wall, until: wall + .hours(24 * 8))) == .outOfRange)
        #expect(reason(Self.silence(wall + .hours(24 * 30), until: wall + .hours(24 * 31))) == .futureTime)
        // Within the skew: taken (the acknowledgement finds no alert; the silence applies).
        #expect(reason(Self.ack(wall + .minutes(1))) == nil)
        #expect(reason(Self.silence(wall - .minutes(1), until: wall + .hours(24 * 7) - .minutes(1))) == nil)
        #expect(engine.activeSilences(at: wall).count == 1)
        // The service's own journal is what it accepted: read back as it is.
        let recovering = FlowEngine(config: config, mode: .live)
        var line = Self.silence(wall + .hours(24 * 30), until: wall + .hours(24 * 31))
        let outcome = line.withUTF8 { recovering.recover($0) }
        guard case .operatorAction = outcome else { Issue.record("\(outcome)"); return }
    }
}

/// The dashboard names a site's cause from what its alert's rule watches: decided by the core,
/// not read back from the alert's sentence or its rule id.
@Suite struct AlertCauseTests {
    @Test func anAlertSaysWhatItsRuleWatches() {
        let occ = ThresholdRule(id: "occ", metric: .gaOccupancyPct, units: ["AAA"], direction: .above,
                                levels: ThresholdLevels(warning: 92, critical: 95, clear: 90, criticalClear: nil))
        let stale = StaleRule(id: "stale_bed", feed: .bed, units: ["BBB"], expected: .hours(1), criticalAfter: nil)
        let config = testConfig(rules: [.threshold(occ), .stale(stale)])
        // AAA at 96% every 10 minutes; BBB once, at the start (silent past its hour).
        let lines = [bedLine("BBB", at(0), occupied: 50)] + (0...9).map { bedLine("AAA", at(Int64($0) * 10), occupied: 96) }
        let (r, _) = replay(config, lines, finish: false)
        let alerts = r.engine.snapshot(historyPoints: 1).alerts
        #expect(alerts.first { $0.rule == "occ" }?.cause == .metric(.gaOccupancyPct), "\(alerts.map(\.rule))")
        #expect(alerts.first { $0.rule == "stale_bed" }?.cause == .stale(.bed), "\(alerts.map(\.rule))")
    }
}
