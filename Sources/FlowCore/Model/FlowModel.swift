import DequeModule

/// The flow of a health system in memory: per-site snapshots, since-midnight counts in local
/// time, rolling windows, and history at a fixed resolution for trends.
///
/// Pure: it changes only through `apply(_:)` and `advance(to:)`, and reads no clock.
public struct FlowModel: Sendable {
    public let config: SystemConfig
    public let calendar: LocalCalendar
    var sites: [SiteFlow]
    /// The event clock: latest time the model has been advanced to or seen.
    public private(set) var now: EventTime?
    /// Up to when windows, days and history have been brought.
    private var housekeepingAt: EventTime?
    /// The current local day and its bounds (cached: the zone lookup is not free).
    private(set) var dayCache = (date: LocalDate(dayNumber: .min), start: EventTime(millis: .max), end: EventTime(millis: .min))
    /// The starts of the two local days before the current one (cached with it: with it, the days
    /// ledgers are kept for). A closing DToC delay is split over them, and their zone lookups
    /// were 3% of a replay without rules.
    private var yesterdayStart = EventTime(millis: .max)
    private var dayBeforeStart = EventTime(millis: .max)
    /// 08:00 local of the current day (cached: the zone lookup is not free).
    private var eightOClock = (day: LocalDate(dayNumber: .min), at: EventTime(millis: 0))
    /// When the model first saw data (stale rules count silence from here for sites never heard).
    public private(set) var start: EventTime?
    /// Spans in which the live input was held because the journal could not write (a full disk;
    /// `OperatorAction` `held`), oldest first, disjoint, at most `maxInputHolds`. A feed's
    /// silence does not count them: its lines waited, or urgentflow refused them, and a sender
    /// resends refused lines only when it next tries. Counted, the stale-feed rules paged leads
    /// about feeds that were fine as soon as the hold ended.
    public private(set) var inputHolds: [(from: EventTime, until: EventTime)] = []
    static let maxInputHolds = 16
    public var history: MetricHistory { historyStore.spec }
    var historyStore: MetricHistoryStore
    /// Per site and feed (`feedSlot(site, feed)`, the layout of `changeStamps`): the latest event
    /// time seen, and how long data stays current (from the stale rules; default 6 h). Flat
    /// arrays of plain values in the model rather than arrays per site: every metric read checks
    /// freshness, and reaching an array inside a site object (or inside another array) cost a
    /// retain and release per read.
    private(set) var feedLastSeen: [EventTime?]
    let feedMaxAge: [Duration]
    /// Completed days, ready for the sitrep, in order. Drained by the caller.
    public private(set) var completedDays: [(site: Int, ledger: DayLedger)] = []
    public var keepCompletedDays = false
    /// Metrics (by index) kept in history per site: those that apply to the unit's kind (all of
    /// them), or before `allHistoryFrom` only those a trend rule fits (`historyForRulesOnly`).
    private(set) var historyMetrics: [[Int]]
    /// The same as one flat list each, of every metric kept and of the trend rules' only, as the
    /// history samples them: sampling reached each site's list of metrics in turn, a retain and
    /// release of each per sample.
    private var historyCells: [MetricHistoryStore.Cell]
    private var ruleHistoryCells: [MetricHistoryStore.Cell] = []
    private(set) var allHistoryFrom = EventTime(millis: .min)
    /// Change stamps per site and feed (`site * 4 + feed.index`): bumped whenever a message or
    /// housekeeping changes what that feed's metrics at that site may read. The rule engine
    /// compares them to know which rules to evaluate again (RuleSchedule.swift).
    private(set) var changeStamps: [UInt64]
    /// Sum of all change stamps' bumps: equal means nothing changed.
    private(set) var version: UInt64 = 0
    /// Whether a rule reads the handover-to-clear time, the only metric an ambulance `clear`
    /// changes (see `apply`).
    let clearsRead: Bool
    /// The history row being sampled (reused: metrics not kept stay missing).
    private var historyRow: [Float]
    /// For each cell of `historyRow`, the change stamps of the data it read (its feed's at its
    /// site, and the feed it also reads) and the instant its value could next change with time
    /// alone (`stableUntil`): a sample before then with the stamps as they were takes the value
    /// the row holds, unread (most samples find a site's bed figures as an hour's message left
    /// them). `until` at its least: read at the next sample. The system's cells, sums over the
    /// sites, and the metrics that grow with time are read at every sample.
    private var historyReads: [(stamps: (UInt64, UInt64), until: EventTime)]
    /// A sample of every metric has been taken into `historyRow`: a later sample of the trend
    /// rules' metrics only must be recorded whole (the row's other values are no longer missing).
    private var historyRowHasAll = false
    /// Indices of the acute units (the system's bed and ambulance figures sum over them).
    let acuteSites: [Int]
    /// The earliest instant at which `advance(to:)` has housekeeping to do (a history sample,
    /// 08:00, midnight, a queue or clear-wait purge). The engine visits that tick even when no
    /// rule is due, so skipping quiet ticks changes nothing.
    public private(set) var housekeepingDue = EventTime(millis: .min)
    /// Back-filling history ("Back-filling history" in HistoryBackfill.swift): a line at or
    /// before this instant takes that path before it is applied; the latest history sample, or
    /// every line while a feed's tail waits for the next `advance`. One comparison per line
    /// otherwise (a replay's lines come after every sample taken).
    var backfillUpTo = EventTime(millis: .min)
    var backfill: HistoryBackfill
    /// Bumped whenever a back-fill changes a history value already sampled: the rule engine then
    /// reads its trend rules' points again (they are kept, not read, from one sample to the next).
    var historyRevision: UInt64 = 0
    /// Latest escalation scores per site (written by the rule engine).
    var scores: [Double?]
    var scoreLevels: [Int?]

    public static let defaultMaxAge = Duration.hours(6)

    public init(config: SystemConfig) {
        self.config = config
        self.calendar = LocalCalendar(identifier: config.timeZone) ?? LocalCalendar(identifier: "UTC")!
        self.sites = (0..<config.units.count).map { _ in SiteFlow() }
        self.historyStore = MetricHistoryStore(sites: config.units.count + 1, spec: MetricHistory(step: .minutes(5), points: 288))
        let slots = config.units.count * FeedKind.allCases.count
        var ages = Array(repeating: Self.defaultMaxAge, count: slots)
        var explicit = Array(repeating: false, count: slots)
        for rule in config.rules {
            guard case .stale(let s) = rule else { continue }
            for site in config.units(matching: s.units) {
                let k = Self.feedSlot(site, s.feed)
                if !explicit[k] || s.expected < ages[k] { ages[k] = s.expected }
                explicit[k] = true
            }
        }
        self.feedMaxAge = ages
        self.feedLastSeen = Array(repeating: nil, count: slots)
        var hm: [[Int]] = config.units.map { u in
            MetricKey.allCases.indices.filter { MetricKey.allCases[$0].applies(to: u.kind) }
        }
        hm.append(Array(MetricKey.allCases.indices))   // the system row
        self.historyMetrics = hm
        self.historyCells = MetricHistoryStore.Cell.of(hm)
        self.backfill = HistoryBackfill(config: config, kept: hm)
        self.acuteSites = config.units.indices.filter { config.units[$0].kind == .acute }
        self.historyRow = Array(repeating: .nan, count: (config.units.count + 1) * MetricKey.allCases.count)
        self.historyReads = Array(repeating: ((0, 0), EventTime(millis: .min)), count: historyRow.count)
        self.changeStamps = Array(repeating: 0, count: slots)
        self.clearsRead = config.rules.contains { $0.metricsRead.contains(.handoverToClearMin) }
        self.scores = Array(repeating: nil, count: config.units.count + 1)
        self.scoreLevels = Array(repeating: nil, count: config.units.count + 1)
    }

    /// Keeps history only for the metrics trend rules fit, for samples before `until` (headless
    /// replay: nothing else reads history; recovery: only the last day is ever drawn). Sampling
    /// every metric of every site was most of a quiet tick's cost.
    public mutating func historyForRulesOnly(until: EventTime = EventTime(millis: .max)) {
        var wanted = Set<Int>()
        for rule in config.rules { if case .trend(let r) = rule { wanted.insert(r.metric.index) } }
        ruleHistoryCells = MetricHistoryStore.Cell.of(historyMetrics.map { $0.filter(wanted.contains) })
        allHistoryFrom = until
        backfill.ruleTargets = HistoryBackfill(config: config, kept: historyMetrics.map { $0.filter(wanted.contains) }).targets
    }

    /// The index of a (site, feed) pair in the per-site-and-feed arrays.
    @inline(__always) static func feedSlot(_ site: Int, _ feed: FeedKind) -> Int { site * FeedKind.allCases.count + feed.index }

    /// The change stamps of the data a metric reads at a site (its feed's, and the feed it also
    /// reads, else 0); nil for a metric of no feed (the score's). Equal stamps: its data is as it
    /// was (what the score's readings and the history's samples keep their reads by).
    @inline(__always) func dataStamps(_ metric: MetricKey, site: Int) -> (UInt64, UInt64)? {
        metric.feed.map { feed in
            (changeStamps[Self.feedSlot(site, feed)], metric.alsoReads.map { changeStamps[Self.feedSlot(site, $0)] } ?? 0)
        }
    }

    @inline(__always) mutating func stamp(_ site: Int, _ feed: FeedKind) {
        changeStamps[Self.feedSlot(site, feed)] &+= 1
        version &+= 1
    }

    // MARK: - Applying messages

    /// Applies a validated message. Returns a rejection for checks that need state
    /// (unknown incident or patient, capacity).
    public mutating func apply(_ m: FeedMessage) -> Rejection? {
        if m.at <= backfillUpTo { backfillBefore(site: m.site, feed: m.feed, at: m.at) }
        return Unmanaged.passUnretained(sites[m.site])._withUnsafeGuaranteedRef { apply(m, to: $0) }
    }

    /// `s` is the message's site, borrowed from `sites` (which holds it throughout and is never
    /// changed): a retain and release of it per message were 2% of a replay without rules.
    private mutating func apply(_ m: FeedMessage, to s: SiteFlow) -> Rejection? {
        let t = m.at
        func reject(_ r: RejectionReason, _ field: String, _ detail: String) -> Rejection {
            Rejection(r, field: field, detail, feed: m.feed, site: config.units[m.site].code)
        }
        switch m.payload {
        case .bed(let b):
            if s.bedAt == nil || t >= s.bedAt! {
                s.bed = b
                s.bedAt = t
            }
        case .dtoc(let d):
            switch d {
            case .start(let patient, let reason, let org, let pathway, let ready):
                if s.episodes[KeyFingerprint(patient)] == nil && s.episodes.count >= SiteFlow.maxOpenEpisodes {
                    return reject(.capacity, "patient", "more than \(SiteFlow.maxOpenEpisodes) open episodes at this site")
                }
                s.episodes[KeyFingerprint(patient)] = DToCEpisode(readySince: ready, reason: reason, org: org, pathway: pathway)
                s.dtocUsesSnapshot = false
            case .end(let patient):
                guard let e = s.episodes.removeValue(forKey: KeyFingerprint(patient)) else {
                    return reject(.unknownPatient, "patient", "no open episode for this patient key")
                }
                addClosedDelay(s, from: e.readySince, to: t)
                s.dtocUsesSnapshot = false
            case .snapshot(let c):
                if s.dtocSnapshotAt == nil || t >= s.dtocSnapshotAt! {
                    s.dtocSnapshot = c
                    s.dtocSnapshotAt = t
                    s.dtocUsesSnapshot = true
                }
            }
            s.dtocSeen = true
        case .nhs111(let v):
            let day = localDay(t - Duration(millis: 1)).date  // interval end 00:00 belongs to the day before
            if let li = s.ledger(for: day) {
                s.ledgers[li].nhs111Offered += v.offered
                s.ledgers[li].nhs111Answered += v.answered
                s.ledgers[li].nhs111AnsweredWithin60s += v.answeredWithin60s
                s.ledgers[li].nhs111Abandoned += v.abandoned
                s.ledgers[li].nhs111Intervals += 1
            }
            // Keep intervals in end-time order (late ones are inserted in place).
            var idx = s.intervals.count
            while idx > 0 && s.intervals[idx - 1].at > t { idx -= 1 }
            s.intervals.insert(Stamped(at: t, value: v), at: idx)
            while s.intervals.count > 16 { s.intervals.removeFirst() }
        case .ambulance(let a):
            switch a {
            case .arrived(let incident, _):
                if s.queue[incident] == nil && s.queue.count >= SiteFlow.maxQueue {
                    return reject(.capacity, "incident", "more than \(SiteFlow.maxQueue) ambulances queued at this site")
                }
                s.queue.insert(incident, at: t)
                if t + Self.queueLimit < housekeepingDue { housekeepingDue = t + Self.queueLimit + Duration(millis: 1) }
                if let li = s.ledger(for: localDay(t).date) {
                    s.ledgers[li].ambulanceArrivals += 1
                    s.ledgers[li].conveyanceMessages += 1
                }
                s.ambulanceConveyanceSeen = true
            case .handover(let incident, let arrivedAt):
                let arrival: EventTime
                if let a = s.queue.remove(incident) {
                    arrival = a
                } else if let a = arrivedAt {
                    arrival = a
                    // Arrival not seen (feed started mid-stream): count the arrival on its day.
                    if let li = s.ledger(for: localDay(a).date) {
                        s.ledgers[li].ambulanceArrivals += 1
                        s.ledgers[li].conveyanceMessages += 1
                    }
                } else {
                    return reject(.unknownIncident, "incident", "handover with no arrival seen for this incident (send arrived_at)")
                }
                if arrival > t {
                    return reject(.outOfRange, "at", "handover is before the arrival")
                }
                let delay = t - arrival
                if let li = s.ledger(for: localDay(arrival).date) {
                    s.ledgers[li].handovers += 1
                    s.ledgers[li].conveyanceMessages += 1
                    let m = delay.millis
                    if m <= 15 * 60_000 { s.ledgers[li].handoversWithin15 += 1 }
                    else if m <= 30 * 60_000 { s.ledgers[li].handovers15to30 += 1 }
                    else if m <= 60 * 60_000 { s.ledgers[li].handovers30to60 += 1 }
                    else { s.ledgers[li].handoversOver60 += 1 }
                    s.ledgers[li].handoverLostMillis += max(0, m - 15 * 60_000)
                }
                if s.awaitingClear.count < SiteFlow.maxAwaitingClear {
                    s.awaitingClear[KeyFingerprint(incident)] = (arrival, t)
                    if t + Self.clearWaitLimit < housekeepingDue { housekeepingDue = t + Self.clearWaitLimit + Duration(millis: 1) }
                }
                s.ambulanceConveyanceSeen = true
            case .clear(let incident):
                guard let h = s.awaitingClear.removeValue(forKey: KeyFingerprint(incident)) else {
                    return reject(.unknownIncident, "incident", "clear with no handover seen for this incident")
                }
                s.recentClears.append(Stamped(at: t, value: (t - h.handover).minutesValue))
                s.ambulanceConveyanceSeen = true
            case .status(let st):
                if s.statusAt == nil || t >= s.statusAt! {
                    s.status = st
                    s.statusAt = t
                }
            }
        }
        let slot = Self.feedSlot(m.site, m.feed)
        // An ambulance `clear` changes only the handover-to-clear time (its handover was seen,
        // so conveyance is already seen) and when the feed was last heard from. While no rule
        // reads that time and the feed is current by the model's clock (which every evaluation
        // so far was at or before), every value a rule reads stays as it was up to the instant
        // the feed would have gone stale, at which each rule reading the feed is due by time
        // anyway (`stableUntil`, and a stale-feed rule's next level of silence): no rule is
        // made due. A third of ambulance messages; each made its six rules due (7% of a replay).
        // A late clear arriving after the feed went stale by the clock brings the feed back,
        // and is stamped (RuleScheduleEquivalenceTests).
        if !clearsRead, case .ambulance(.clear(_)) = m.payload, let seen = feedLastSeen[slot],
           max(t, now ?? t) - seen <= feedMaxAge[slot] {
            if t > seen { feedLastSeen[slot] = t }
        } else {
            if feedLastSeen[slot] == nil || t > feedLastSeen[slot]! { feedLastSeen[slot] = t }
            stamp(m.site, m.feed)
        }
        if start == nil { start = t }
        if now == nil || t > now! { now = t }
        return nil
    }

    private mutating func addClosedDelay(_ s: SiteFlow, from: EventTime, to: EventTime) {
        // Split the delay across the local days it spans (today and the kept days only).
        var cursor = from
        var guardCount = 0
        // The days before the first kept ledger add nothing: the walk starts at that day, each
        // day passed over counted as walked (so it stops where it did). Walking them read the
        // time zone twice a day, for episodes ready for days (about 2% of a replay).
        if let first = s.ledgers.first?.date, from < to {
            let day = localDate(from)
            if day < first {
                guardCount = Int(min(400, first.dayNumber - day.dayNumber))
                cursor = max(from, startOfDay(first))
            }
        }
        while cursor < to && guardCount < 400 {
            let day = localDate(cursor)
            let dayEnd = startOfDay(day.next)
            let end = min(dayEnd, to)
            if let first = s.ledgers.first?.date, day < first {
                // Older than kept ledgers: skip.
            } else if let li = s.ledger(for: day) {
                s.ledgers[li].dtocClosedDelayMillis += (end - cursor).millis
            }
            cursor = end
            guardCount += 1
        }
    }

    // MARK: - The clock

    /// Moves the event clock forward (never back): prunes windows, takes the 08:00 stock
    /// snapshot, retires completed days, and samples history at its resolution.
    public mutating func advance(to t: EventTime) {
        if now == nil || t > now! { now = t }
        // Feeds whose lines came behind the history: the samples after their latest line, from
        // the data as it is now (before any housekeeping moves it on).
        if backfill.anyTailPending { fillTails() }
        if let h = housekeepingAt, t <= h { return }
        // Nothing to do before the next due housekeeping (purges, 08:00, midnight, history): a
        // quiet tick costs nothing. Windows are pruned at least at every history sample.
        if t < housekeepingDue { return }
        let previous = housekeepingAt
        housekeepingAt = t
        if start == nil { start = t }
        let today = localDay(t).date
        if eightOClock.day != today {
            eightOClock = (today, calendar.instant(of: today, hour: 8))
            dayCache = (today, calendar.startOfDay(today), calendar.startOfDay(today.next))
            yesterdayStart = calendar.startOfDay(LocalDate(dayNumber: today.dayNumber - 1))
            dayBeforeStart = calendar.startOfDay(LocalDate(dayNumber: today.dayNumber - 2))
        }
        for i in sites.indices {
            Unmanaged.passUnretained(sites[i])._withUnsafeGuaranteedRef {
                housekeep(site: i, $0, at: t, previous: previous, today: today, eight: eightOClock.at)
            }
        }
        // History: one sample per step boundary crossed.
        while let due = historyStore.nextSample(after: previous, upTo: t) {
            let all = due >= allHistoryFrom
            let cells = all ? historyCells : ruleHistoryCells
            for j in cells.indices {
                let c = cells[j]
                if c.site < config.units.count, !Self.growsWithTime(c.metric), let stamps = dataStamps(c.metric, site: c.site) {
                    if stamps == historyReads[c.index].stamps && due < historyReads[c.index].until { continue }
                    historyReads[c.index] = (stamps, stableUntil(c.metric, site: c.site, from: due))
                }
                historyRow[c.index] = value(c.metric, site: c.site, at: due).map(Float.init) ?? .nan
            }
            if all || !historyRowHasAll {
                historyStore.record(at: due, row: historyRow, only: cells)
            } else {
                historyStore.record(at: due, row: historyRow)
            }
            if all { historyRowHasAll = true }
        }
        backfillUpTo = historyStore.lastSample ?? EventTime(millis: .min)
        housekeepingDue = nextHousekeeping(after: t)
    }

    /// `advance(to:)` for site `i`, `s`, borrowed from `sites` (which holds it throughout and is
    /// never changed): a retain and release of each site at every housekeeping were 4% of a
    /// replay without rules.
    private mutating func housekeep(site i: Int, _ s: SiteFlow, at t: EventTime, previous: EventTime?, today: LocalDate, eight: EventTime) {
        // Windows: keep the last hour.
        let hourAgo = t - .hours(1)
        while let first = s.recentClears.first, first.at <= hourAgo {
            if s.latestPrunedClear.map({ first.at > $0 }) ?? true { s.latestPrunedClear = first.at }   // (back-fills)
            s.recentClears.removeFirst()
        }
        // Arrivals never handed over within 24 h are dropped (bounded memory; their arrival
        // stays counted on its day).
        if let oldest = s.queue.oldest, t - oldest > Self.queueLimit {
            let latest = s.queue.removeArrivals(before: t - Self.queueLimit)
            if let latest, s.latestPurgedArrival.map({ latest > $0 }) ?? true { s.latestPurgedArrival = latest }
            stamp(i, .ambulance)
        }
        if s.awaitingClear.count > 0 {
            let cutoff = t - Self.clearWaitLimit
            if s.awaitingClear.values.contains(where: { $0.handover < cutoff }) {
                s.awaitingClear = s.awaitingClear.filter { $0.value.handover >= cutoff }
            }
        }
        // 08:00 stock snapshot of today.
        // Taken at the first tick at or after 08:00; unknown if the model started later.
        if t >= eight, s.stockTakenOn != today, let li = s.ledger(for: today) {
            if !s.ledgers[li].stockCaptured {
                s.ledgers[li].stockCaptured = true
                if let p = previous, p < eight {
                    let occ = value(.gaOccupancyPct, site: i, at: t)
                    let esc = value(.escalationBedsOpen, site: i, at: t)
                    let dtoc = value(.dtocPatients, site: i, at: t)
                    s.ledgers[li].gaOccupancyAt0800 = occ
                    s.ledgers[li].escalationOpenAt0800 = esc.map { Int($0) }
                    s.ledgers[li].dtocPatientsAt0800 = dtoc.map { Int($0) }
                }
            }
            s.stockTakenOn = today
        }
        // Retire days that can no longer change (two days back).
        while let first = s.ledgers.first, first.date.dayNumber < today.dayNumber - 1 {
            let done = s.ledgers.removeFirst()
            if keepCompletedDays { completedDays.append((i, done)) }
        }
    }

    static let queueLimit = Duration.hours(24)
    static let clearWaitLimit = Duration.hours(6)

    /// The earliest instant after `t` at which `advance(to:)` would do something (see
    /// `housekeepingDue`).
    private func nextHousekeeping(after t: EventTime) -> EventTime {
        var due = historyStore.lastSample.map { $0 + historyStore.spec.step } ?? (t.floored(to: historyStore.spec.step) + historyStore.spec.step)
        if eightOClock.at > t { due = min(due, eightOClock.at) }
        due = min(due, dayCache.end)
        for s in sites {
            if let oldest = s.queue.oldest { due = min(due, oldest + Self.queueLimit + Duration(millis: 1)) }
            for w in s.awaitingClear.values { due = min(due, w.handover + Self.clearWaitLimit + Duration(millis: 1)) }
        }
        return max(due, t + Duration(millis: 1))
    }

    /// Hands every remaining day to the sitrep (end of a replay). The days stay in place, so the
    /// since-midnight figures on screen are still those of the last day, not zeros.
    public mutating func finishDays() {
        guard keepCompletedDays else { return }
        for i in sites.indices {
            for day in sites[i].ledgers { completedDays.append((i, day)) }
        }
    }

    public mutating func drainCompletedDays() -> [(site: Int, ledger: DayLedger)] {
        defer { completedDays.removeAll() }
        return completedDays
    }

    mutating func setScore(site: Int, score: Double?, level: Int?) {
        scores[site] = score
        scoreLevels[site] = level
    }

    // MARK: - Reading metrics

    /// Whether a feed's data for a site is current at `t` (not stale, and seen at all).
    public func isFresh(_ feed: FeedKind, site: Int, at t: EventTime) -> Bool {
        let slot = Self.feedSlot(site, feed)
        guard let seen = feedLastSeen[slot] else { return false }
        return t - seen <= feedMaxAge[slot]
    }

    public func lastSeen(_ feed: FeedKind, site: Int) -> EventTime? { feedLastSeen[Self.feedSlot(site, feed)] }

    // MARK: - Silence of a feed

    /// Since when a feed has been silent at a site: its latest line, or the model's start for a
    /// site never heard (nil before any data). What the stale-feed rules count from.
    public func silentSince(_ feed: FeedKind, site: Int) -> EventTime? { lastSeen(feed, site: site) ?? start }

    /// The input was held from `from` to `until` (see `inputHolds`). Overlapping spans merge.
    public mutating func inputHeld(from: EventTime, until: EventTime) {
        guard until > from else { return }
        var spans = inputHolds + [(from, until)]
        spans.sort { $0.from < $1.from }
        var merged: [(from: EventTime, until: EventTime)] = []
        for span in spans {
            if let last = merged.last, span.from <= last.until {
                merged[merged.count - 1].until = max(last.until, span.until)
            } else {
                merged.append(span)
            }
        }
        inputHolds = Array(merged.suffix(Self.maxInputHolds))
    }

    /// How long a feed silent since `from` has been silent at `now`: the time between, less the
    /// time the input was held.
    public func silence(from: EventTime, to now: EventTime) -> Duration {
        var millis = (now - from).millis
        for h in inputHolds {
            let held = min(h.until, now).millis - max(h.from, from).millis
            if held > 0 { millis -= held }
        }
        return Duration(millis: millis)
    }

    /// The first instant at which a feed silent since `from` has been silent for `length`
    /// (`silence(from:to:)`): each hold that begins before it pushes it later by its length.
    public func silenceReaches(_ length: Duration, from: EventTime) -> EventTime {
        var t = from + length
        for h in inputHolds where h.until > from {
            let start = max(h.from, from)
            if start >= t { break }
            t = t + (h.until - start)
        }
        return t
    }

    /// The current value of a metric at a site; nil when missing or stale (never zero for
    /// missing). `site == config.units.count` is the whole system.
    public func value(_ metric: MetricKey, site: Int, at t: EventTime? = nil) -> Double? {
        guard let t = t ?? now else { return nil }
        if site == config.units.count { return systemValue(metric, at: t) }
        unowned(unsafe) let s = sites[site]   // owned by `sites` for the whole call: no retain
        switch metric {
        case .opelScore: return scores[site]
        case .opelLevel: return scoreLevels[site].map(Double.init)
        default: break
        }
        if let feed = metric.feed, !isFresh(feed, site: site, at: t) { return nil }
        switch metric {
        case .gaOccupancyPct:
            guard let b = s.bed, b.coreOpen > 0 else { return nil }
            return pct(b.coreOccupied, b.coreOpen)
        case .gaOccupancyInclEscPct:
            guard let b = s.bed else { return nil }
            let open = b.coreOpen + (b.escalationOpen ?? 0)
            return open > 0 ? pct(b.coreOccupied + (b.escalationOccupied ?? 0), open) : nil
        case .escalationBedsOpen:
            return s.bed?.escalationOpen.map(Double.init)
        case .escalationSharePct:
            guard let b = s.bed, let e = b.escalationOpen, b.coreOpen + e > 0 else { return nil }
            return pct(e, b.coreOpen + e)
        case .bedsClosed: return s.bed?.closed.map(Double.init)
        case .edInDepartment: return s.bed?.edInDepartment.map(Double.init)
        case .edDtaWaiting: return s.bed?.edDecisionsToAdmitWaiting.map(Double.init)
        case .ed4hPct: return s.bed?.ed4hPct
        case .edOver12h: return s.bed?.edOver12h.map(Double.init)
        case .edOver12hSharePct:
            guard let b = s.bed, let o = b.edOver12h, let n = b.edInDepartment, n > 0 else { return nil }
            return pct(o, n)
        case .dtocPatients:
            return dtocPatients(s).map(Double.init)
        case .dtocSharePct:
            guard let d = dtocPatients(s), isFresh(.bed, site: site, at: t), let b = s.bed else { return nil }
            let occupied = b.coreOccupied + (b.escalationOccupied ?? 0)
            return occupied > 0 ? pct(d, occupied) : nil
        case .dtocBedDays:
            guard s.dtocSeen, !s.dtocUsesSnapshot else { return nil }
            let (day, dayStart) = localDay(t)
            var ms = s.ledgerIndex(day).map { s.ledgers[$0].dtocClosedDelayMillis } ?? 0
            for e in s.episodes.values { ms += max(0, (t - max(e.readySince, dayStart)).millis) }
            return Double(ms) / 86_400_000
        case .dtocLongestDays:
            guard s.dtocSeen, !s.dtocUsesSnapshot else { return nil }
            var oldest: EventTime?
            for e in s.episodes.values where oldest == nil || e.readySince < oldest! { oldest = e.readySince }
            guard let oldest else { return 0 }
            return (t - oldest).hoursValue / 24
        case .ambulanceQueue:
            guard s.ambulanceConveyanceSeen else { return nil }
            return Double(s.queue.count)
        case .ambulanceLongestWaitMin:
            guard s.ambulanceConveyanceSeen else { return nil }
            guard let oldest = s.queue.oldest else { return 0 }
            return max(0, (t - oldest).minutesValue)
        case .ambulanceArrivals, .handovers30to60, .handoversOver60, .handoverHoursLost:
            guard s.ambulanceConveyanceSeen else { return nil }
            guard let li = s.ledgerIndex(localDay(t).date) else { return 0 }   // no ledger: none yet today
            switch metric {
            case .ambulanceArrivals: return Double(s.ledgers[li].ambulanceArrivals)
            case .handovers30to60: return Double(s.ledgers[li].handovers30to60)
            case .handoversOver60: return Double(s.ledgers[li].handoversOver60)
            default: return s.ledgers[li].handoverHoursLost
            }
        case .handoverToClearMin:
            let recent = s.recentClears.filter { t - $0.at < .hours(1) && $0.at <= t }
            guard !recent.isEmpty else { return nil }
            return recent.map(\.value).reduce(0, +) / Double(recent.count)
        case .stackWaiting: return s.status?.stackWaiting.map(Double.init)
        case .cat2MeanMin: return s.status?.cat2MeanSeconds.map { Double($0) / 60 }
        case .nhs111Offered, .nhs111AnsweredWithin60sPct, .nhs111AbandonedPct, .nhs111UrgentDispositionPct,
             .nhs111AmbulanceDispositionPct, .nhs111EDDispositionPct:
            return nhs111LastHour(s, metric, at: t)
        case .nhs111OfferedToday:
            guard !s.intervals.isEmpty else { return nil }
            return Double(s.ledgerIndex(localDay(t - Duration(millis: 1)).date).map { s.ledgers[$0].nhs111Offered } ?? 0)
        case .opelScore, .opelLevel:
            return nil
        }
    }

    private func dtocPatients(_ s: SiteFlow) -> Int? {
        guard s.dtocSeen else { return nil }
        if s.dtocUsesSnapshot { return s.dtocSnapshot?.patients }
        return s.episodes.count
    }

    private func nhs111LastHour(_ s: SiteFlow, _ metric: MetricKey, at t: EventTime) -> Double? {
        var offered = 0, answered = 0, within = 0, abandoned = 0, amb = 0, ed = 0, disp = 0, n = 0
        for iv in s.intervals where iv.at <= t && t - iv.at < .hours(1) {
            let v = iv.value
            offered += v.offered; answered += v.answered; within += v.answeredWithin60s; abandoned += v.abandoned
            if let total = v.dispositionsTotal { disp += total; amb += v.dispAmbulance ?? 0; ed += v.dispED ?? 0 }
            n += 1
        }
        guard n > 0 else { return nil }
        switch metric {
        case .nhs111Offered: return Double(offered)
        case .nhs111AnsweredWithin60sPct: return answered > 0 ? pct(within, answered) : nil
        case .nhs111AbandonedPct: return offered > 0 ? pct(abandoned, offered) : nil
        case .nhs111UrgentDispositionPct: return disp > 0 ? pct(amb + ed, disp) : nil
        case .nhs111AmbulanceDispositionPct: return disp > 0 ? pct(amb, disp) : nil
        case .nhs111EDDispositionPct: return disp > 0 ? pct(ed, disp) : nil
        default: return nil
        }
    }

    /// System roll-up: sums over acute sites for bed and ambulance figures, the 111 and
    /// ambulance-service units for theirs. Nil when no contributing site has data.
    private func systemValue(_ metric: MetricKey, at t: EventTime) -> Double? {
        switch metric {
        case .opelScore: return scores[config.units.count]
        case .opelLevel: return scoreLevels[config.units.count].map(Double.init)
        case .gaOccupancyPct, .gaOccupancyInclEscPct, .escalationSharePct:
            var num = 0, den = 0, any = false
            for i in acuteSites where isFresh(.bed, site: i, at: t) {
                guard let b = sites[i].bed else { continue }
                any = true
                switch metric {
                case .gaOccupancyPct: num += b.coreOccupied; den += b.coreOpen
                case .gaOccupancyInclEscPct:
                    num += b.coreOccupied + (b.escalationOccupied ?? 0); den += b.coreOpen + (b.escalationOpen ?? 0)
                default: num += b.escalationOpen ?? 0; den += b.coreOpen + (b.escalationOpen ?? 0)
                }
            }
            return any && den > 0 ? pct(num, den) : nil
        case .ambulanceQueue, .dtocPatients, .handoverHoursLost, .ambulanceArrivals, .handovers30to60, .handoversOver60,
             .escalationBedsOpen, .bedsClosed, .edInDepartment, .edDtaWaiting, .edOver12h:
            var total = 0.0, any = false
            for i in acuteSites {
                if let v = value(metric, site: i, at: t) { total += v; any = true }
            }
            return any ? total : nil
        case .ambulanceLongestWaitMin:
            return acuteSites.compactMap { value(metric, site: $0, at: t) }.max()
        default:
            // 111 and ambulance-service figures: the first unit of that kind.
            guard let i = systemSources(metric).first else { return nil }
            return value(metric, site: i, at: t)
        }
    }

    /// The units a system figure is computed from: every acute site for bed and ambulance
    /// figures, else the first 111 or ambulance-service unit; none for the escalation score
    /// (the rule engine's). `systemValue` and `stableUntil` both follow it.
    func systemSources(_ metric: MetricKey) -> [Int] { Self.systemSources(metric, config: config, acuteSites: acuteSites) }

    /// The same, before a model exists (`HistoryBackfill`).
    static func systemSources(_ metric: MetricKey, config: SystemConfig, acuteSites: [Int]) -> [Int] {
        switch metric {
        case .opelScore, .opelLevel: return []
        case .gaOccupancyPct, .gaOccupancyInclEscPct, .escalationSharePct, .ambulanceQueue, .dtocPatients,
             .handoverHoursLost, .ambulanceArrivals, .handovers30to60, .handoversOver60, .escalationBedsOpen,
             .bedsClosed, .edInDepartment, .edDtaWaiting, .edOver12h, .ambulanceLongestWaitMin:
            return acuteSites
        default:
            let kind: UnitKind = metric.feed == .nhs111 ? .nhs111 : .ambulance
            return config.units.firstIndex(where: { $0.kind == kind }).map { [$0] } ?? []
        }
    }

    @inline(__always) private func pct(_ a: Int, _ b: Int) -> Double { Double(a) / Double(b) * 100 }

    /// The local date of `t`, from the cache of the current day and the two before when it applies.
    @inline(__always) func localDate(_ t: EventTime) -> LocalDate {
        if t >= dayCache.start && t < dayCache.end { return dayCache.date }
        if t >= dayBeforeStart && t < dayCache.start { return LocalDate(dayNumber: dayCache.date.dayNumber - (t >= yesterdayStart ? 1 : 2)) }
        return calendar.localDate(of: t)
    }

    /// The local day of `t` and its start (both from the caches when they apply).
    @inline(__always) func localDay(_ t: EventTime) -> (date: LocalDate, start: EventTime) {
        let d = localDate(t)
        return (d, startOfDay(d))
    }

    /// The start of local day `d`, from the cache of the current day, the next and the two before
    /// when it applies.
    @inline(__always) func startOfDay(_ d: LocalDate) -> EventTime {
        if d == dayCache.date { return dayCache.start }
        if d == dayCache.date.next { return dayCache.end }
        if dayBeforeStart != EventTime(millis: .max) {
            if d.dayNumber == dayCache.date.dayNumber - 1 { return yesterdayStart }
            if d.dayNumber == dayCache.date.dayNumber - 2 { return dayBeforeStart }
        }
        return calendar.startOfDay(d)
    }

    // MARK: - Reading days

    /// Today's counts for a site so far (nil before any data).
    public func today(site: Int) -> DayLedger? {
        guard let t = now else { return nil }
        return sites[site].ledgerIfPresent(localDay(t).date)
    }

    /// Open DToC episodes by responsible organisation, pathway and reason (episode-mode sites).
    public func dtocBreakdown(site: Int) -> (org: [ResponsibleOrganisation: Int], pathway: [DischargePathway: Int], reason: [DToCReason: Int])? {
        let s = sites[site]
        guard s.dtocSeen else { return nil }
        if s.dtocUsesSnapshot, let c = s.dtocSnapshot {
            var org: [ResponsibleOrganisation: Int] = [:], path: [DischargePathway: Int] = [:]
            for (k, o) in ResponsibleOrganisation.allCases.enumerated() { if let v = c.byOrg[k] { org[o] = v } }
            for (k, p) in DischargePathway.allCases.enumerated() { if let v = c.byPathway[k] { path[p] = v } }
            return (org, path, [:])
        }
        var org: [ResponsibleOrganisation: Int] = [:], path: [DischargePathway: Int] = [:], reason: [DToCReason: Int] = [:]
        for e in s.episodes.values {
            org[e.org, default: 0] += 1
            path[e.pathway, default: 0] += 1
            reason[e.reason, default: 0] += 1
        }
        return (org, path, reason)
    }

    public func declaredOpel(site: Int) -> Int? {
        guard let t = now, isFresh(.bed, site: site, at: t) else { return nil }
        return sites[site].bed?.declaredOpel
    }
}

extension FeedKind {
    @inline(__always) var index: Int {
        switch self {
        case .bed: return 0
        case .dtoc: return 1
        case .nhs111: return 2
        case .ambulance: return 3
        }
    }
}
