import Foundation
import Testing
@testable import FlowCore

@Suite struct FlowModelTests {
    @Test func handoverBucketsAndHoursLostFollowTheSitrep() {
        let config = testConfig()
        // Delays: 10, 30 (not over 30), 31, 60 (not over 60), 61, 125 minutes; all arrive first.
        let delays = [10, 30, 31, 60, 61, 125]
        var events: [(EventTime, String)] = []
        for (i, d) in delays.enumerated() {
            let arrive = at(Int64(600 + i))
            events.append((arrive, ambLine("AAA", arrive, kind: "arrived", incident: "i\(i)")))
            events.append((arrive + .minutes(Int64(d)), ambLine("AAA", arrive + .minutes(Int64(d)), kind: "handover", incident: "i\(i)")))
        }
        let lines = events.sorted { $0.0 < $1.0 }.map(\.1)
        // Finished: the last handover is more than 15 minutes after the line before, and a
        // replay holds it until a later line or the end (ReplayClockJumpTests).
        let (r, _) = replay(config, lines, finish: true)
        let m = r.engine.model
        #expect(m.value(.handovers30to60, site: 0) == 2)
        #expect(m.value(.handoversOver60, site: 0) == 2)
        // Lost beyond 15 min: 0 + 15 + 16 + 45 + 46 + 110 = 232 minutes.
        #expect(abs(m.value(.handoverHoursLost, site: 0)! - 232.0 / 60) < 1e-9)
        #expect(m.value(.ambulanceQueue, site: 0) == 0)
        #expect(m.value(.ambulanceArrivals, site: 0) == 6)
    }

    @Test func aHandoverAfterMidnightCountsOnTheDayOfArrival() {
        let config = testConfig()
        let arrive = RFC3339.parse("2026-01-13T23:40:00Z")!
        let lines = [ambLine("AAA", arrive, kind: "arrived", incident: "late"),
                     ambLine("AAA", arrive + .minutes(50), kind: "handover", incident: "late"),
                     ambLine("AAA", arrive + .minutes(70), kind: "clear", incident: "late")]
        let (r, _) = replay(config, lines)
        let rows = r.sitrepRows
        #expect(rows.contains { $0.hasPrefix("2026-01-13,AAA,1,1,0,0.58") }, "\(rows)")
        #expect(!rows.contains { $0.hasPrefix("2026-01-14,AAA,1") })
    }

    @Test func sinceMidnightResetsAtLocalMidnightInSummerTime() {
        let config = testConfig()
        // 22:30 UTC on 30 June is 23:30 BST; 23:30 UTC is 00:30 BST on 1 July: a new local day.
        let a = RFC3339.parse("2026-06-30T22:30:00Z")!
        let b = RFC3339.parse("2026-06-30T23:30:00Z")!
        let lines = [ambLine("AAA", a, kind: "arrived", incident: "x"), ambLine("AAA", a + .minutes(5), kind: "handover", incident: "x"),
                     ambLine("AAA", b, kind: "arrived", incident: "y")]
        let (r, _) = replay(config, lines, finish: true)   // the 00:30 line is held until the end (an hour on)
        #expect(r.engine.model.value(.ambulanceArrivals, site: 0) == 1, "only the 00:30 BST arrival is today")
        #expect(r.engine.model.today(site: 0)?.date == LocalDate(year: 2026, month: 7, day: 1))
    }

    @Test func nhs111DayTotalsAcrossTheOctoberChange() {
        let config = testConfig()
        // 25 Oct 2026 is 25 hours long: 100 intervals of 15 minutes from local midnight (23:00 UTC on the 24th).
        let start = RFC3339.parse("2026-10-24T23:00:00Z")!
        var lines: [String] = []
        for k in 1...100 { lines.append(line111(start + .minutes(Int64(k) * 15), offered: 10, answered: 10, within: 10, abandoned: 0)) }
        lines.append(line111(start + .minutes(101 * 15), offered: 7, answered: 7, within: 7, abandoned: 0))
        let (r, _) = replay(config, lines)
        // The data starts at 00:15 BST (its first interval's end), so the long day is not whole.
        #expect(r.sitrepRows.contains("2026-10-25,111,,,,,,,,1000,100,part,2026-10-25T00:15:00+01:00,2026-10-26T00:00:00+00:00,24.75"),
                "\(r.sitrepRows)")
        #expect(r.sitrepRows.contains("2026-10-26,111,,,,,,,,7,100,part,2026-10-26T00:00:00+00:00,2026-10-26T00:15:00+00:00,0.25"))
    }

    /// A return with only `disp_ambulance` and `disp_ed` made them 100% of the dispositions, a
    /// critical alert (the dashboard user test, 2026-11-25): the shares need all five.
    @Test func dispositionSharesNeedEveryDisposition() {
        let config = testConfig()
        let partial = #"{"feed":"111","id":"p1","at":"\#(iso(at(15)))","site":"111","offered":96,"answered":91,"answered_60s":63,"abandoned":4,"disp_ambulance":9,"disp_ed":8}"#
        let (r, _) = replay(config, [partial], finish: false)
        let site = config.unitIndex("111")!
        #expect(r.engine.model.value(.nhs111UrgentDispositionPct, site: site, at: at(16)) == nil)
        #expect(r.engine.model.value(.nhs111AmbulanceDispositionPct, site: site, at: at(16)) == nil)
        #expect(r.engine.model.value(.nhs111AnsweredWithin60sPct, site: site, at: at(16)) != nil, "the other figures stand")
        // With a whole return in the hour: the share is of it alone (9 + 8 of 96).
        let (w, _) = replay(config, [partial, line111(at(30), amb: 9, ed: 8)], finish: false)
        let share = w.engine.model.value(.nhs111UrgentDispositionPct, site: site, at: at(31))
        #expect(share.map { abs($0 - 100.0 * 17 / 96) < 0.01 } == true, "\(String(describing: share))")
    }

    @Test func theEndOfAReplayKeepsTodaysCountsOnScreen() {
        let lines = (0..<5).map { ambLine("AAA", at(Int64(60 + $0)), kind: "arrived", incident: "e\($0)") }
        let (r, _) = replay(testConfig(), lines, finish: true)
        #expect(r.engine.model.value(.ambulanceArrivals, site: 0) == 5, "finishing hands the day to the sitrep, it does not zero the screen")
        #expect(r.sitrepRows.contains { $0.hasPrefix("2026-01-13,AAA,5,") })
    }

    @Test func stockFiguresAreTheO800Snapshot() {
        let config = testConfig()
        var lines: [String] = []
        for h in 0..<12 { lines.append(bedLine("AAA", at(Int64(h) * 60), occupied: 80 + h, extra: ",\"esc_open\":\(h)")) }
        let (r, _) = replay(config, lines)
        // 13 Jan is GMT: 08:00 local = 08:00 UTC, bed state 88 of 100, 8 escalation beds.
        #expect(r.sitrepRows.contains { $0.hasPrefix("2026-01-13,AAA,,,,,88,8,") }, "\(r.sitrepRows)")
    }

    /// A delay closed after days splits across the kept days only: yesterday's whole day and
    /// today's part (the days before, long retired, add nothing).
    @Test func dtocClosedDelaySplitsAcrossTheKeptDays() {
        let config = testConfig()
        var lines: [String] = []
        for h in stride(from: 0, to: 48 + 1, by: 6) { lines.append(bedLine("AAA", at(Int64(h) * 60), occupied: 80)) }
        let day2 = at(48 * 60)
        lines.append("{\"feed\":\"dtoc\",\"id\":\"\(nextID())\",\"at\":\"\(iso(at(60, from: day2)))\",\"site\":\"AAA\",\"kind\":\"start\",\"patient\":\"p1\",\"reason\":\"E\",\"org\":\"social\",\"pathway\":\"P1\",\"ready_since\":\"\(iso(at(-5 * 1440 + 30)))\"}")
        lines.append("{\"feed\":\"dtoc\",\"id\":\"\(nextID())\",\"at\":\"\(iso(at(180, from: day2)))\",\"site\":\"AAA\",\"kind\":\"end\",\"patient\":\"p1\"}")
        let (r, _) = replay(config, lines, finish: true)   // the end, two hours on, is held until the end
        let m = r.engine.model
        // 15 Jan 03:00 (GMT): 3 h today; 14 Jan whole; 13 Jan retired.
        #expect(abs(m.value(.dtocBedDays, site: 0)! - 3.0 / 24) < 1e-9)
        let calendar = LocalCalendar(identifier: "Europe/London")!
        let yesterday = calendar.localDate(of: at(24 * 60))
        #expect(m.sites[0].ledgerIfPresent(yesterday)?.dtocClosedDelayMillis == 86_400_000)
        #expect(m.sites[0].ledgerIfPresent(calendar.localDate(of: t0)) == nil)
    }

    @Test func dtocEpisodesCountsSharesAndDelays() {
        let config = testConfig()
        func start(_ p: String, _ t: EventTime, ready: EventTime, org: String = "social", path: String = "P1") -> String {
            "{\"feed\":\"dtoc\",\"id\":\"\(nextID())\",\"at\":\"\(iso(t))\",\"site\":\"AAA\",\"kind\":\"start\",\"patient\":\"\(p)\",\"reason\":\"E\",\"org\":\"\(org)\",\"pathway\":\"\(path)\",\"ready_since\":\"\(iso(ready))\"}"
        }
        let lines = [
            bedLine("AAA", at(0), open: 100, occupied: 80),
            start("p1", at(60), ready: at(0)),
            start("p2", at(60), ready: at(-2 * 1440), org: "nhs", path: "P3"),
            "{\"feed\":\"dtoc\",\"id\":\"\(nextID())\",\"at\":\"\(iso(at(120)))\",\"site\":\"AAA\",\"kind\":\"end\",\"patient\":\"p1\"}",
            start("p3", at(120), ready: at(120)),
            bedLine("AAA", at(120), open: 100, occupied: 80),
        ]
        let (r, _) = replay(config, lines, finish: false)
        let m = r.engine.model
        #expect(m.value(.dtocPatients, site: 0) == 2)
        #expect(m.value(.dtocSharePct, site: 0) == 2.5)
        #expect(abs(m.value(.dtocLongestDays, site: 0)! - (2 + 2.0 / 24)) < 1e-9)
        let b = m.dtocBreakdown(site: 0)!
        #expect(b.org[.nhs] == 1 && b.org[.social] == 1 && b.pathway[.p3] == 1)
        // Today (from 00:00): p1 delayed 00:00-02:00 (closed), p2 delayed all 2 h, p3 0 h => 4 h.
        #expect(abs(m.value(.dtocBedDays, site: 0)! - 4.0 / 24) < 1e-9)
        let end = r.engine.ingest("{\"feed\":\"dtoc\",\"id\":\"zz\",\"at\":\"\(iso(at(130)))\",\"site\":\"AAA\",\"kind\":\"end\",\"patient\":\"nobody\"}")
        guard case .rejected(let rej) = end else { Issue.record("accepted an unknown patient"); return }
        #expect(rej.reason == .unknownPatient)
    }
}

@Suite struct EngineTests {
    @Test("a line refused as patient-identifiable is counted against the feed and site that sent it")
    func identifiableLinesAreAttributed() {
        let e = FlowEngine(config: testConfig())
        let nhsNumber = #"{"feed":"dtoc","id":"d1","at":"\#(iso(t0))","site":"AAA","kind":"start","patient":"943 476 5919","reason":"x"}"#
        let byName = #"{"feed":"bed","site":"BBB","nhs_number":"x","id":"b1","at":"\#(iso(t0))"}"#
        let unknownSite = #"{"feed":"bed","site":"ZZZ","nhs_number":"x","id":"b2","at":"\#(iso(t0))"}"#
        for line in [nhsNumber, byName, unknownSite] {
            guard case .rejected(let r) = e.ingest(line) else { Issue.record("accepted \(line)"); continue }
            #expect(r.reason == .identifiable)
        }
        #expect(e.counters[FlowEngine.CounterKey(feed: .dtoc, site: "AAA")]?.rejected == 1)
        #expect(e.counters[FlowEngine.CounterKey(feed: .bed, site: "BBB")]?.rejected == 1)
        #expect(e.counters[FlowEngine.CounterKey(feed: .bed, site: nil)]?.rejected == 1, "an unknown site is not named")
    }

    @Test("rejected-line counts carry over to a new engine: totals, per feed, per reason")
    func rejectionCountsRoundTrip() {
        let a = FlowEngine(config: testConfig())
        let line = bedLine("AAA", t0, occupied: 50)
        _ = a.ingest(line)
        _ = a.ingest("not json")
        _ = a.ingest(line)                                          // duplicate id
        _ = a.ingest(bedLine("NOPE", t0 + .minutes(1), occupied: 5))
        #expect(a.rejectedTotal == 3)
        let b = FlowEngine(config: testConfig())
        b.restoreRejections(a.rejectionCounts)
        #expect(b.rejectedTotal == 3)
        #expect(b.rejectedCount(feed: .bed) == a.rejectedCount(feed: .bed))
        #expect(b.rejectionCounts == a.rejectionCounts)
        #expect(b.acceptedTotal == 0, "counts only: nothing was accepted")
    }

    @Test func duplicatesFutureAndLateLinesAreRejectedAndCounted() {
        let engine = FlowEngine(config: testConfig())
        let first = bedLine("AAA", t0, occupied: 50)
        #expect(engine.ingest(first) == engine.ingest(first) ? false : true)
        // Seven hours ahead: held (ReplayClockJumpTests), and refused when the feed's next line
        // comes back at the time of the others.
        let future = bedLine("AAA", at(7 * 60), occupied: 50)
        #expect(engine.ingest(future) == .held)
        #expect(engine.ingest(bedLine("AAA", at(1), occupied: 51)) == .accepted)
        guard case .rejected(let f) = engine.takeHeldVerdict() else { Issue.record("future accepted"); return }
        #expect(f.reason == .futureTime && f.field == "at")
        let late = bedLine("AAA", at(-3 * 24 * 60), occupied: 50)
        guard case .rejected(let l) = engine.ingest(late) else { Issue.record("late accepted"); return }
        #expect(l.reason == .tooLate)
        #expect(engine.acceptedTotal == 2)
        #expect(engine.rejectedTotal == 3)
        let c = engine.counters[FlowEngine.CounterKey(feed: .bed, site: "AAA")]
        #expect(c?.byReason[.duplicateID] == 1 && c?.byReason[.futureTime] == 1 && c?.byReason[.tooLate] == 1)
    }

    @Test func liveModeChecksTimeAgainstTheWallClock() {
        let engine = FlowEngine(config: testConfig(), mode: .live)
        guard case .rejected(let r) = engine.ingest(bedLine("AAA", at(20), occupied: 5), receivedAt: t0) else {
            Issue.record("accepted 20 minutes ahead of the wall clock"); return
        }
        #expect(r.reason == .futureTime)
        guard case .accepted = engine.ingest(bedLine("AAA", at(10), occupied: 5), receivedAt: t0) else {
            Issue.record("rejected 10 minutes ahead"); return
        }
    }

    @Test func unknownIncidentsAreRejectedButArrivedAtIsAccepted() {
        let engine = FlowEngine(config: testConfig())
        guard case .rejected(let r) = engine.ingest(ambLine("AAA", t0, kind: "handover", incident: "ghost")) else {
            Issue.record("accepted"); return
        }
        #expect(r.reason == .unknownIncident)
        guard case .accepted = engine.ingest(ambLine("AAA", at(100), kind: "handover", incident: "ghost2", extra: ",\"arrived_at\":\"\(iso(at(60)))\"")) else {
            Issue.record("rejected with arrived_at"); return
        }
        #expect(engine.model.value(.handovers30to60, site: 0) == 1)
        guard case .rejected(let c) = engine.ingest(ambLine("AAA", at(101), kind: "clear", incident: "never")) else { Issue.record("accepted"); return }
        #expect(c.reason == .unknownIncident)
    }

    @Test func aBadLineNeverLosesWhatWasAccepted() {
        let engine = FlowEngine(config: testConfig())
        _ = engine.ingest(bedLine("AAA", t0, occupied: 90))
        for bad in ["{", "", "\u{0}", "{\"feed\":\"bed\"}", String(repeating: "[", count: 10_000)] { _ = engine.ingest(bad) }
        #expect(engine.model.value(.gaOccupancyPct, site: 0) == 90)
        #expect(engine.rejectedTotal == 5)
    }

    @Test func replayIsDeterministicAndIndependentOfHowLinesArrive() throws {
        let config = testConfig(rules: [occupancyRule(for: .minutes(20))])
        var lines: [String] = []
        for k in 0..<200 {
            lines.append(bedLine("AAA", at(Int64(k) * 7), occupied: 80 + (k * 13) % 20))
            lines.append(line111(at(Int64(k) * 7 + 3), within: 50 + k % 40))
        }
        let a = replay(config, lines).1.map(\.jsonLine)
        let b = replay(config, lines).1.map(\.jsonLine)
        #expect(a == b)
        #expect(!a.isEmpty)
        // The same lines with CRLF endings and a different set of ids' spelling give the same alerts.
        let c = replay(config, lines.map { $0 + "\r" }).1.map(\.jsonLine)
        #expect(a == c)
    }

    @Test func acknowledgementIsShownOnTheActiveAlert() {
        let config = testConfig(rules: [occupancyRule(for: .zero)])
        let (r, _) = replay(config, [bedLine("AAA", t0, occupied: 96), bedLine("AAA", at(5), occupied: 96)], finish: false)
        #expect(r.engine.acknowledge(rule: "occ", site: "AAA", by: "Ann", note: "extra beds opening", at: at(6)))
        #expect(!r.engine.acknowledge(rule: "occ", site: "BBB", by: "Ann", note: nil, at: at(6)))
        let alert = r.engine.snapshot().alerts.first
        #expect(alert?.acknowledgedBy == "Ann" && alert?.ackNote == "extra beds opening" && alert?.leadName == "Dee")
    }

    @Test func aValuePastItsLevelShowsItWhileTheAlertWaitsOutItsDelay() {
        let config = testConfig(rules: [occupancyRule(for: .minutes(30))])
        let (r, out) = replay(config, [bedLine("AAA", t0, occupied: 97), bedLine("AAA", at(5), occupied: 97)], finish: false)
        #expect(out.map(\.state) == [.pending], "not firing yet")
        let snap = r.engine.snapshot()
        #expect(snap.sites[0].metric(.gaOccupancyPct)?.status == .critical)
        #expect(snap.sites[0].status == .critical, "the site shows its worst metric too")
    }

    @Test func snapshotDecidesStatusRolesAndShowsMissingAsMissing() {
        let config = testConfig(rules: [occupancyRule(for: .zero)])
        let (r, _) = replay(config, [bedLine("AAA", t0, occupied: 96), bedLine("AAA", at(5), occupied: 96)], finish: false)
        let snap = r.engine.snapshot()
        let aaa = snap.sites[0]
        #expect(aaa.status == .critical)
        #expect(aaa.metric(.gaOccupancyPct)?.status == .critical)
        #expect(aaa.metric(.gaOccupancyPct)?.criticalLevel == 95)
        #expect(aaa.metric(.ambulanceQueue)?.value == nil && aaa.metric(.ambulanceQueue)?.status == .unknown)
        #expect(snap.sites[1].status == .unknown, "a site with no data is unknown, not ok")
        #expect(snap.localClock == "Tue 13 Jan 2026 00:05 GMT")
    }

    /// Before any line has set the event clock (an empty scenario, or one whose every line is
    /// refused) the snapshot says there is no data yet, not the epoch's date: the dashboard's
    /// header showed "Thu 01 Jan 1970 01:00 BST" for an empty scenario.
    @Test func aSnapshotBeforeAnyLineSaysNoDataYet() {
        let config = testConfig(rules: [occupancyRule(for: .zero)])
        let (refused, _) = replay(config, ["{\"feed\":\"bed\",\"site\":\"AAA\"}", "not json"], finish: false)
        #expect(refused.engine.acceptedTotal == 0 && refused.engine.rejectedTotal == 2)
        for r in [HeadlessReplay(config: config), refused] {
            let snap = r.engine.snapshot()
            #expect(snap.localClock == FlowEngine.noClock && snap.localClock == "no data yet")
            #expect(snap.sites.allSatisfy { $0.status == .unknown })
        }
        let (one, _) = replay(config, [bedLine("AAA", t0, occupied: 80)], finish: false)
        #expect(one.engine.snapshot().localClock == "Tue 13 Jan 2026 00:00 GMT")
    }

    /// The ambulance queue keeps its earliest arrival as incidents come, repeat, go and are
    /// purged: always the minimum of what is queued.
    @Test func arrivalQueueKeepsItsEarliestArrival() {
        var q = ArrivalQueue()
        var rng = SystemRandomNumberGenerator()
        for step in 0..<5_000 {
            let incident = UInt64.random(in: 0..<40, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5: q.insert(incident, at: at(Int64.random(in: 0..<600, using: &rng)))
            case 5..<9: _ = q.remove(incident)
            default: q.removeArrivals(before: at(Int64.random(in: 0..<300, using: &rng)))
            }
            #expect(q.oldest == q.arrivals.values.min(), "step \(step)")
        }
    }

    /// Each history sample is the model's value at its instant, for every metric of a feed at
    /// every site: a sample whose data is as at the cell's last read, before the value could
    /// change with time alone, is not read again (`historyReads`), and must still be what a
    /// read gives (a message moves it; silence past the feed's age, a last-hour window, midnight
    /// change it with the data as it was).
    @Test func everyHistorySampleIsTheValueAtItsInstant() throws {
        let config = testConfig()
        var decoder = FeedDecoder(units: config.units)
        var model = FlowModel(config: config)
        var rng = SplitMix(seed: 7)
        var t = t0
        var queued: [String] = []
        var checked = 0
        let metrics = MetricKey.allCases.filter { $0.feed != nil && !FlowModel.growsWithTime($0) }
        for step in 0..<600 {
            // Mostly minutes apart; now and then longer than a feed's age (6 h).
            let gap = rng.next() % 40 == 0 ? Int64(7 * 60) : Int64(1 + rng.next() % 50)
            t = t + .minutes(gap)
            let line: String
            switch rng.next() % 5 {
            case 0: line = bedLine(rng.next() % 2 == 0 ? "AAA" : "BBB", t, occupied: 60 + Int(rng.next() % 40))
            case 1: line = line111(t, offered: 100 + Int(rng.next() % 50), answered: 90, within: 70 + Int(rng.next() % 20))
            case 2:
                let incident = "i\(step)"
                queued.append(incident)
                line = ambLine("AAA", t, kind: "arrived", incident: incident, extra: ",\"category\":2")
            default:
                guard !queued.isEmpty else { continue }
                line = ambLine("AAA", t, kind: "handover", incident: queued.removeFirst())
            }
            let before = model.lastHistorySample
            model.advance(to: t)
            // The samples this advance took, all with the data as it was before the line.
            for site in 0..<config.units.count {
                for metric in metrics {
                    for (at, v) in model.points(metric, site: site, window: .hours(8)) where before.map({ at > $0 }) ?? true {
                        let want = model.value(metric, site: site, at: at).map { Double(Float($0)) }
                        #expect(v == want, "\(metric) at site \(site), sample \(iso(at)), step \(step)")
                        checked += 1
                    }
                    // A sample the history holds as missing is one the model has no value for.
                    if let last = model.lastHistorySample, before.map({ last > $0 }) ?? true,
                       !model.points(metric, site: site, window: .zero).contains(where: { $0.0 == last }) {
                        #expect(model.value(metric, site: site, at: last) == nil, "\(metric) at site \(site), sample \(iso(last))")
                    }
                }
            }
            #expect(model.apply(try decoder.decode(line).get()) == nil, "step \(step)")
        }
        #expect(checked > 10_000)
    }

    /// Trend rules bring their history points up to date sample by sample
    /// (`MetricHistoryStore.updatePoints`): always the points a full read gives, through gaps in
    /// the samples, missing values and a ring that wraps.
    @Test func historyPointsBroughtUpToDateEqualAFullRead() {
        let metrics = MetricKey.allCases.count
        var store = MetricHistoryStore(sites: 2, spec: MetricHistory(step: .minutes(5), points: 48))
        var rng = SystemRandomNumberGenerator()
        var row = [Float](repeating: .nan, count: 2 * metrics)
        var t = t0
        for window in [Duration.minutes(20), .minutes(90), .hours(3), .hours(4), .hours(6)] {
            var kept: [(EventTime, Double)] = []
            var since: EventTime? = nil
            for _ in 0..<400 {
                // Mostly one step; now and then a gap of several, or one longer than the ring.
                let gap = Int64.random(in: 0..<20, using: &rng) == 0 ? Int64.random(in: 2...60, using: &rng) : 1
                t = t + .minutes(5 * gap)
                row[metrics + 3] = Int.random(in: 0..<5, using: &rng) == 0 ? .nan : Float.random(in: 0...100, using: &rng)
                store.record(at: t, row: row)
                if Int.random(in: 0..<3, using: &rng) == 0 { continue }   // not read at every sample
                store.updatePoints(site: 1, metric: 3, window: window, since: since, into: &kept)
                since = store.lastSample
                let full = store.points(site: 1, metric: 3, window: window)
                #expect(kept.map(\.0) == full.map(\.0) && kept.map(\.1) == full.map(\.1), "window \(window) at \(t)")
            }
        }
    }
}

@Suite struct ConfigTests {
    static var bundledPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scenarios/herts-west-essex.yaml").path
    }

    @Test func theBundledSystemLoads() throws {
        let text = try String(contentsOfFile: Self.bundledPath, encoding: .utf8)
        let c = try ConfigLoader.load(yaml: text, file: "herts-west-essex.yaml")
        #expect(c.name == "Hertfordshire and West Essex")
        #expect(c.units.map(\.code) == ["RWH", "RWG", "RQW", "HCT", "HPFT", "HUC", "EEAST"])
        #expect(c.rules.count >= 15)
        guard case .threshold(let occ) = c.rules.first(where: { $0.id == "ga_occupancy" })! else { Issue.record("kind"); return }
        #expect(occ.levels(for: "RQW").warning == 94 && occ.levels(for: "RWH").warning == 92)
        #expect(occ.raiseDelay == .minutes(30) && occ.source?.contains("92%") == true)
    }

    @Test func everyProblemIsReportedWithLineAndKey() {
        let yaml = """
        system:
          name: Test
          timezone: Mars/Olympus
        units:
          - code: AAA
            name: A
            kind: hospital
          - code: AAA
            name: B
            kind: acute
            weight: 2
        rules:
          - id: r1
            kind: threshold
            metric: occupancy
            units: [acute]
          - id: r2
            kind: threshold
            metric: ga_occupancy_pct
            units: [ZZZ]
            warning: 95
            critical: 92
            for: soon
          - id: r3
            kind: magic
            units: [acute]
        """
        do {
            _ = try ConfigLoader.load(yaml: yaml, file: "bad.yaml")
            Issue.record("loaded a bad configuration")
        } catch {
            let text = error.description
            #expect(text.contains("bad.yaml:3: system.timezone: 'Mars/Olympus' is not a known time zone"), "\(text)")
            #expect(text.contains("bad.yaml:7: units[0].kind: 'hospital'"))
            #expect(text.contains("bad.yaml:8: units[1].code: 'AAA' is used by another unit"))
            #expect(text.contains("units[1].weight"))
            #expect(text.contains("rules[0].metric: 'occupancy' is not a metric"))
            #expect(text.contains("rules[1].units: 'ZZZ'"))
            #expect(text.contains("rules[1].critical: critical 92.0 must be further above than warning 95.0"))
            #expect(text.contains("rules[1].for: 'soon' is not a duration"))
            #expect(text.contains("bad.yaml:25: rules[2].kind: 'magic'"))
        }
    }

    @Test func invalidYAMLNamesTheLine() {
        do {
            _ = try ConfigLoader.load(yaml: "system:\n  name: [unclosed\nunits: []\n", file: "x.yaml")
            Issue.record("loaded")
        } catch {
            #expect(error.problems.first?.line != nil)
            #expect(error.description.hasPrefix("x.yaml:"))
        }
    }
}

@Suite struct MetricKeyIndexTests {
    /// `MetricKey.index` is the position in `allCases` (the history row layout).
    @Test func indexIsThePositionInAllCases() {
        for (i, m) in MetricKey.allCases.enumerated() { #expect(m.index == i, "\(m)") }
    }
}
