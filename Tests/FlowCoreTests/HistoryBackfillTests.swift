import Testing
@testable import FlowCore

/// A feed that comes back after an outage sends its backlog at once. Live, history is sampled on
/// the wall clock, so the samples of the backlog's hours were taken while its data was missing;
/// the sparklines and the trend rules saw nothing for them ("19 hours sent at once leave them
/// empty"). The backlog's lines fill the samples they cover (HistoryBackfill.swift).
@Suite struct HistoryBackfillTests {
    static let wall = at(19 * 60) + .seconds(26)   // 19:00:26, the service's start

    /// Occupancy of the backlog's line at `minutes` past midnight: rising through the day.
    static func occupied(_ minutes: Int64) -> Int { 60 + Int(minutes / 30) }

    /// The history's sample of `metric` at `site` at `s` (nil: missing, or not in the ring).
    static func sample(_ e: FlowEngine, _ metric: MetricKey, site: Int = 0, at s: EventTime) -> Double? {
        e.model.points(metric, site: site, window: .hours(24)).first { $0.0 == s }?.1
    }

    /// Every sample instant from `from` through `through`.
    static func instants(_ from: EventTime, _ through: EventTime) -> [EventTime] {
        Array(stride(from: from.millis, through: through.millis, by: 300_000)).map { EventTime(millis: $0) }
    }

    /// A live engine started at 19:00:26 that receives AAA's bed lines every 30 minutes from
    /// 00:00 to 19:00 a second later, all at once.
    static func backlogged(_ config: SystemConfig = testConfig(), evaluateEveryTick: Bool = false) -> FlowEngine {
        let e = FlowEngine(config: config, mode: .live, evaluateEveryTick: evaluateEveryTick)
        e.advance(to: wall)
        for m in stride(from: Int64(0), through: 19 * 60, by: 30) {
            #expect(e.ingest(bedLine("AAA", at(m), occupied: occupied(m)), receivedAt: wall + .seconds(1)) == .accepted)
        }
        return e
    }

    @Test func aBacklogFillsTheSamplesItCovers() {
        let e = Self.backlogged()
        // At once, up to the backlog's last line: each sample has the latest line at or before it.
        for s in Self.instants(at(0), at(18 * 60 + 55)) {
            let minutes = (s - t0).millis / 60_000
            #expect(Self.sample(e, .gaOccupancyPct, at: s) == Double(Self.occupied(minutes / 30 * 30)), "\(iso(s))")
        }
        // The sample after it (19:00, taken at the start with no data) waits for the next
        // advance: a later line of the feed could still come before it.
        #expect(Self.sample(e, .gaOccupancyPct, at: at(19 * 60)) == nil)
        e.advance(to: at(19 * 60 + 1))
        #expect(Self.sample(e, .gaOccupancyPct, at: at(19 * 60)) == Double(Self.occupied(19 * 60)))
        // As the dashboard reads it: 24 hours of sparkline, nothing before the first line.
        let series = e.model.series(.gaOccupancyPct, site: 0, count: 288)
        #expect(series.compactMap { $0 }.count == 229)
        #expect(series.prefix(59).allSatisfy { $0 == nil })
        // The other metrics of the bed feed at the site too, and none of another feed.
        #expect(Self.sample(e, .edInDepartment, at: at(600)) == nil, "not in these lines")
        #expect(Self.sample(e, .gaOccupancyInclEscPct, at: at(600)) == Double(Self.occupied(600)))
        #expect(e.model.points(.ambulanceQueue, site: 0, window: .hours(24)).isEmpty)
    }

    @Test func aSampleTakenLiveIsNotOverwritten() {
        let e = FlowEngine(config: testConfig(), mode: .live)
        let start = at(0) + .seconds(10)
        e.advance(to: start)
        #expect(e.ingest(bedLine("AAA", at(0), occupied: 70), receivedAt: start) == .accepted)
        // Then the feed is silent for nine hours; the clock runs on.
        for minute in stride(from: Int64(1), through: 9 * 60, by: 1) { e.advance(to: at(minute) + .seconds(10)) }
        #expect(Self.sample(e, .gaOccupancyPct, at: at(6 * 60)) == 70, "current for 6 h")
        #expect(Self.sample(e, .gaOccupancyPct, at: at(6 * 60 + 5)) == nil, "stale after")
        // Its backlog: every 30 minutes from 00:30, 80% and rising.
        let wall = at(9 * 60) + .seconds(20)
        for m in stride(from: Int64(30), through: 9 * 60, by: 30) {
            #expect(e.ingest(bedLine("AAA", at(m), occupied: 80 + Int(m / 30)), receivedAt: wall) == .accepted)
        }
        e.advance(to: at(9 * 60 + 1))
        // The samples taken while the 00:00 line was current keep what was sampled then.
        for s in Self.instants(at(5), at(6 * 60)) { #expect(Self.sample(e, .gaOccupancyPct, at: s) == 70, "\(iso(s))") }
        // The missing ones take the backlog's data.
        for s in Self.instants(at(6 * 60 + 5), at(9 * 60)) {
            let m = (s - t0).millis / 60_000 / 30 * 30
            #expect(Self.sample(e, .gaOccupancyPct, at: s) == Double(80 + m / 30), "\(iso(s))")
        }
    }

    @Test func missingStaysMissingWhereNoDataCame() {
        let e = FlowEngine(config: testConfig(), mode: .live)
        e.advance(to: Self.wall)
        // 00:00-03:00, then nothing for nine hours, then 12:00-19:00.
        for m in Array(stride(from: Int64(0), through: 180, by: 30)) + Array(stride(from: Int64(12 * 60), through: 19 * 60, by: 30)) {
            #expect(e.ingest(bedLine("AAA", at(m), occupied: Self.occupied(m)), receivedAt: Self.wall + .seconds(1)) == .accepted)
        }
        e.advance(to: at(19 * 60 + 1))
        // Current for 6 h after the 03:00 line, then stale until the 12:00 line.
        for s in Self.instants(at(180), at(9 * 60)) { #expect(Self.sample(e, .gaOccupancyPct, at: s) == Double(Self.occupied(180)), "\(iso(s))") }
        for s in Self.instants(at(9 * 60 + 5), at(11 * 60 + 55)) { #expect(Self.sample(e, .gaOccupancyPct, at: s) == nil, "\(iso(s))") }
        #expect(Self.sample(e, .gaOccupancyPct, at: at(12 * 60)) == Double(Self.occupied(12 * 60)))
        // Before the first line: nothing.
        #expect(e.model.series(.gaOccupancyPct, site: 0, count: 288).prefix(59).allSatisfy { $0 == nil })
        // The system's figures over the acute sites need BBB's data as it was then: missing (its
        // samples from the service's start on are taken live).
        let system = e.config.units.count
        #expect(Self.sample(e, .gaOccupancyPct, site: system, at: at(600)) == nil)
        #expect(e.model.points(.gaOccupancyPct, site: system, window: .hours(24)).allSatisfy { $0.0 >= at(19 * 60) })
    }

    /// Since-midnight and last-hour figures are filled from the lines up to each sample, as a
    /// replay of the same lines in time order samples them.
    @Test func countsAndWindowsMatchAReplayOfTheSameLines() {
        var lines: [String] = []
        for k in Int64(0)..<(19 * 6) {   // an ambulance every 10 minutes, handed over 25 minutes later, cleared 15 after
            let a = at(k * 10 + 3)
            lines.append(ambLine("AAA", a, kind: "arrived", incident: "i\(k)", extra: ",\"category\":2"))
            lines.append(ambLine("AAA", a + .minutes(25), kind: "handover", incident: "i\(k)"))
            lines.append(ambLine("AAA", a + .minutes(40), kind: "clear", incident: "i\(k)"))
            if k % 2 == 0 { lines.append(line111(at(k * 10 + 10), offered: 100 + Int(k))) }
        }
        let ordered = lines.enumerated().sorted { lhs, rhs in
            func time(_ l: String) -> String { String(l.split(separator: "\"at\":\"")[1].prefix(20)) }
            return (time(lhs.element), lhs.offset) < (time(rhs.element), rhs.offset)
        }.map(\.element)
        let live = FlowEngine(config: testConfig(), mode: .live)
        live.advance(to: Self.wall)
        for l in ordered where !l.contains("T19:") { #expect(live.ingest(l, receivedAt: Self.wall + .seconds(1)) == .accepted) }
        live.advance(to: at(19 * 60 + 1))
        let replayed = FlowEngine(config: testConfig(), mode: .replay)
        for l in ordered where !l.contains("T19:") { _ = replayed.ingest(l) }
        replayed.advance(to: at(19 * 60))
        // AAA's ambulance figures; 111's, at the 111 unit and the system (which takes them from it).
        let ambulance: [MetricKey] = [.ambulanceQueue, .ambulanceLongestWaitMin, .ambulanceArrivals, .handovers30to60,
                                      .handoverHoursLost, .handoverToClearMin]
        let nhs111: [MetricKey] = [.nhs111Offered, .nhs111AnsweredWithin60sPct, .nhs111OfferedToday]
        let cells = ambulance.map { ($0, 0) } + nhs111.flatMap { [($0, 3), ($0, testConfig().units.count)] }
        var compared = 0
        for (metric, site) in cells {
            do {
                for s in Self.instants(at(5), at(18 * 60 + 55)) {
                    let want = Self.sample(replayed, metric, site: site, at: s)
                    #expect(Self.sample(live, metric, site: site, at: s) == want, "\(metric) at \(site) \(iso(s))")
                    if want != nil { compared += 1 }
                }
            }
        }
        #expect(compared > 1500)
    }

    @Test func aBacklogSpanningAnAdvanceIsFilledWithItsOwnData() {
        // The backlog arrives in two parts with the clock's tick between them: the first part's
        // tail, filled at the tick, is provisional, and the second part's lines replace it.
        let e = FlowEngine(config: testConfig(), mode: .live)
        e.advance(to: Self.wall)
        for m in stride(from: Int64(0), through: 8 * 60, by: 30) {
            _ = e.ingest(bedLine("AAA", at(m), occupied: Self.occupied(m)), receivedAt: Self.wall + .seconds(1))
        }
        e.advance(to: at(19 * 60 + 1))
        #expect(Self.sample(e, .gaOccupancyPct, at: at(10 * 60)) == Double(Self.occupied(8 * 60)), "08:00's data, current for 6 h")
        #expect(Self.sample(e, .gaOccupancyPct, at: at(14 * 60 + 5)) == nil, "stale")
        for m in stride(from: Int64(8 * 60 + 30), through: 19 * 60, by: 30) {
            _ = e.ingest(bedLine("AAA", at(m), occupied: Self.occupied(m)), receivedAt: at(19 * 60 + 1) + .seconds(5))
        }
        e.advance(to: at(19 * 60 + 2))
        for s in Self.instants(at(0), at(19 * 60)) {
            let minutes = (s - t0).millis / 60_000
            #expect(Self.sample(e, .gaOccupancyPct, at: s) == Double(Self.occupied(minutes / 30 * 30)), "\(iso(s))")
        }
    }

    static let trend = RuleConfig.trend(TrendRule(id: "occ-trend", metric: .gaOccupancyPct, units: ["AAA"], direction: .above,
                                                  threshold: 95, window: .hours(3), horizon: .hours(4), raiseDelay: .zero))

    @Test func aTrendRuleFitsTheBackfilledHistory() {
        // Occupancy rises from 56% to 94% over the day's lines, a point every 30 minutes: 95% is
        // half an hour away, and the trend's early warning is due at the first tick after the
        // backlog (with nothing before it, the rule had not enough history).
        let config = testConfig(rules: [Self.trend])
        for everyTick in [false, true] {
            let e = FlowEngine(config: config, mode: .live, evaluateEveryTick: everyTick)
            e.advance(to: Self.wall)
            for m in stride(from: Int64(0), through: 19 * 60, by: 30) {
                _ = e.ingest(bedLine("AAA", at(m), occupied: 56 + Int(m / 30)), receivedAt: Self.wall + .seconds(1))
            }
            e.advance(to: at(19 * 60 + 1))
            let out = e.drainTransitions()
            #expect(out.map(\.rule) == ["occ-trend"], "everyTick \(everyTick): \(out.map(\.jsonLine))")
            #expect(out.first?.state == .firing)
            #expect(out.first?.at == at(19 * 60 + 1))
        }
    }

    /// A live run: the service running, AAA's bed feed out for nine hours while the ambulance
    /// feed carries on, its backlog in two parts with a tick between, then current lines again.
    /// Returns the engine and its journal (lines, and the clock and evaluate marks the live
    /// consumer writes), as `EngineConsumer` drives and journals it.
    static func liveRun(_ config: SystemConfig, everyTick: Bool) -> (FlowEngine, [String], [String]) {
        let e = FlowEngine(config: config, mode: .live, evaluateEveryTick: everyTick)
        var journal: [String] = [], out: [String] = []
        var bedSeq = 0, incident = 0
        func clock(_ t: EventTime) {
            e.advance(to: t)
            journal.append(OperatorAction.mark(.clock, at: t).jsonLine)
            out += e.drainTransitions().map(\.jsonLine)
        }
        func group(_ lines: [String], receivedAt wall: EventTime, backlog: Bool) {
            for l in lines where e.ingest(l, receivedAt: wall) == .accepted { journal.append(l) }
            if !backlog {   // a backlog waits for the next tick (EngineConsumer.batchWillCommit)
                e.evaluate(at: wall)
                journal.append(OperatorAction.mark(.evaluate, at: wall).jsonLine)
                out += e.drainTransitions().map(\.jsonLine)
            }
        }
        func bed(_ t: EventTime, _ site: String = "AAA") -> String {
            bedSeq += 1
            return bedLine(site, t, occupied: 70 + (bedSeq * 7) % 25)
        }
        clock(at(0))
        var pending: [String] = []
        for minute in Int64(1)...(20 * 60) {
            let t = at(minute)
            var lines: [String] = []
            if minute % 7 == 0 {
                incident += 1
                lines.append(ambLine("AAA", t - .seconds(20), kind: "arrived", incident: "x\(incident)", extra: ",\"category\":2"))
                if incident > 3 { lines.append(ambLine("AAA", t - .seconds(10), kind: "handover", incident: "x\(incident - 3)")) }
            }
            if minute % 30 == 0 {
                lines.append(bed(t - .seconds(30), "BBB"))
                let aaa = bed(t - .seconds(40))
                if minute > 6 * 60 && minute <= 15 * 60 { pending.append(aaa) } else { lines.append(aaa) }
            }
            if !lines.isEmpty { group(lines, receivedAt: t + Duration(millis: 300), backlog: false) }
            if minute == 15 * 60 + 2 { group(Array(pending.prefix(10)), receivedAt: t + .seconds(3), backlog: true) }
            if minute == 15 * 60 + 3 { group(Array(pending.dropFirst(10)), receivedAt: t + .seconds(3), backlog: true) }
            clock(t + .seconds(5))
        }
        return (e, journal, out)
    }

    /// Every metric's history at every site and the system, as the dashboard reads it.
    static func allHistory(_ e: FlowEngine) -> [[Double?]] {
        (0...e.config.units.count).flatMap { site in MetricKey.allCases.map { e.model.series($0, site: site, count: 288) } }
    }

    @Test func recoveryRebuildsTheSameHistory() {
        let config = testConfig(rules: [Self.trend, occupancyRule()])
        let (live, journal, transitions) = Self.liveRun(config, everyTick: false)
        // The backlog was filled: AAA's samples in the outage are there.
        #expect(Self.sample(live, .gaOccupancyPct, at: at(12 * 60)) != nil)
        let recovered = FlowEngine(config: config, mode: .live)
        var again: [String] = []
        for l in journal {
            var s = l
            _ = s.withUTF8 { recovered.recover($0) }
            again += recovered.drainTransitions().map(\.jsonLine)
        }
        #expect(Self.allHistory(recovered) == Self.allHistory(live))
        #expect(again == transitions)
        // The rule schedule against every rule at every tick, across the back-fill.
        let (_, _, reference) = Self.liveRun(config, everyTick: true)
        #expect(transitions == reference)
    }
}
