/// Evaluates the configured rules against the flow model on every tick and keeps each alert's
/// lifecycle. The rule kinds: threshold (levels, hysteresis, delays), stale feed, trend
/// (time-to-breach), and the OPEL-style escalation score.
public struct RuleEngine: Sendable {
    /// One alert: a rule at a site (site index == units.count means SYSTEM).
    public struct AlertKey: Hashable, Sendable {
        public var rule: Int
        public var site: Int
    }

    /// An operator's acknowledgement, as the notification policy keeps it (FlowNotify's
    /// `Acknowledgement`): it lasts until `expires` (nil: until the alert resolves) and ends
    /// when the alert gets worse (a higher severity).
    public struct Acknowledgement: Sendable, Equatable {
        public var by: String
        public var at: EventTime
        public var note: String?
        /// The explicit expiry, else `at` + the configured `ackExpiry`; nil: never.
        public var expires: EventTime?

        /// Whether it still holds at `now` (the policy's `tick` ends it at `expires`).
        public func holds(at now: EventTime) -> Bool { expires.map { now < $0 } ?? true }
    }

    struct AlertRecord: Sendable {
        var lifecycle = AlertLifecycle()
        var leadID: String?
        var ack: Acknowledgement?
    }

    public let config: SystemConfig
    /// The rules with the sites they apply to, in configuration order, flattened for the
    /// per-tick evaluation (no struct copies on the hot path).
    let plans: [RulePlan]
    private(set) var alerts: [AlertKey: AlertRecord] = [:]
    /// Whether `alerts` holds a rule at a site (`rule * (units + 1) + site`): most evaluations
    /// ask and find none, and a look-up in `alerts` hashed the key (about 250 instructions a
    /// message).
    private(set) var alerting: [Bool]
    @inline(__always) func hasAlert(_ key: AlertKey) -> Bool { alerting[alertFlag(key)] }
    @inline(__always) private func alertFlag(_ key: AlertKey) -> Int { key.rule &* (config.units.count &+ 1) &+ key.site }
    /// Latest score per site (and system at index units.count), for the snapshot.
    public private(set) var scores: [Double?]
    public private(set) var levels: [Int?]
    /// Whether evaluations build their summary sentence (see `evaluatePair`).
    var describing = true
    /// When each rule at each site is next due (RuleSchedule.swift).
    var schedule: RuleSchedule
    /// The metrics' values as read at the latest instant (RuleSchedule.swift, `MetricReads`).
    var reads: MetricReads
    /// The model's `historyRevision` the trend rules' points were read at.
    private var historyRevision: UInt64 = 0

    public init(config: SystemConfig) {
        self.config = config
        var b: [(RuleConfig, [Int])] = []
        for rule in config.rules {
            switch rule {
            case .threshold(let r): b.append((rule, config.units(matching: r.units)))
            case .stale(let r): b.append((rule, config.units(matching: r.units)))
            case .trend(let r): b.append((rule, config.units(matching: r.units)))
            case .score(let r):
                var sites = config.units(matching: r.units)
                if sites.contains(where: { config.units[$0].weight != nil }) { sites.append(config.units.count) }
                b.append((rule, sites))
            }
        }
        var first = 0
        var plans: [RulePlan] = []
        for (i, (rule, sites)) in b.enumerated() {
            plans.append(RulePlan(index: i, rule: rule, sites: sites, firstPair: first, config: config))
            first += sites.count
        }
        self.plans = plans
        scores = Array(repeating: nil, count: config.units.count + 1)
        alerting = Array(repeating: false, count: plans.count * (config.units.count + 1))
        levels = Array(repeating: nil, count: config.units.count + 1)
        schedule = RuleSchedule(config: config, plans: plans, pairs: first)
        reads = MetricReads(sites: config.units.count + 1)
    }

    func siteCode(_ site: Int) -> String { site == config.units.count ? systemSiteCode : config.units[site].code }
    func siteName(_ site: Int) -> String {
        site == config.units.count ? config.name : config.units[site].name
    }

    /// Evaluates the rules due at tick `now` (RuleSchedule.swift: every rule whose outcome can
    /// differ from its last evaluation); returns the transitions in a fixed order (configuration
    /// order of rules, then unit order). The same transitions as evaluating every rule at every
    /// tick, which is what the schedule is tested against.
    ///
    /// `offGrid`: an evaluation between ticks (live, right after a group of lines): only the
    /// rules whose data changed since their last evaluation are evaluated (RuleSchedule.offGrid).
    public mutating func evaluate(model: inout FlowModel, now: EventTime, offGrid: Bool = false) -> [AlertTransition] {
        schedule.sync(model)
        if model.historyRevision != historyRevision { historyBackfilled(revision: model.historyRevision) }
        schedule.lastTick = now
        schedule.offGrid = offGrid
        defer { schedule.offGrid = false }
        var out: [AlertTransition] = []
        guard offGrid || now >= schedule.nextDue || schedule.everyTick else { return out }
        // The pairs in order (rules in configuration order, then units), a rule touched only
        // where a pair of it is due: most evaluated ticks have a few pairs due, and reaching every
        // rule's list of sites cost a retain and release per rule per tick. A pair is checked
        // when reached, so one made due by an earlier rule's score is evaluated at this tick.
        let plans = self.plans
        schedule.startPassing()
        var pair = 0
        while true {
            pair = evaluatePairs(from: pair, plans: plans, model: model, now: now, into: &out)
            guard pair < schedule.pairRule.count else { break }
            // A score rule's pairs are evaluated together: its sites, then the system. The plan
            // unretained, as in `evaluatePairs` (it and its sites were retained and released at
            // every evaluated tick).
            pair = Unmanaged.passUnretained(plans[schedule.pairRule[pair]])._withUnsafeGuaranteedRef { plan in
                evaluateScore(plan, model: &model, now: now, into: &out)
                for p in plan.firstPair..<(plan.firstPair + plan.sites.count) { schedule.pass(p) }
                return plan.firstPair + plan.sites.count
            }
        }
        schedule.nextDue = schedule.earliestPassed()
        return out
    }

    /// The model back-filled samples already taken (HistoryBackfill.swift): every trend rule
    /// reads its points again and is evaluated afresh. Its points, their sums and its lookahead's
    /// certificate are kept from one sample to the next on the premise that a sample, once taken,
    /// stays as it is, and its estimate rested on them. Rare (lines behind the history).
    private mutating func historyBackfilled(revision: UInt64) {
        historyRevision = revision
        for plan in plans where plan.kind == .trend {
            for (k, site) in plan.sites.enumerated() {
                plan.trendCache[site].sample = nil   // and with it the sums and the certificate
                let pair = plan.firstPair + k
                schedule.evaluated(pair, nextAt: RuleSchedule.dataChanged, basis: nil)
            }
        }
        schedule.nextDue = EventTime(millis: .min)
    }

    /// The due pairs from `start` on, up to the first due pair of a score rule (returned; the
    /// pair count when none). A score changes the model (`setScore`), the other rules only read
    /// it: the model is borrowed for the run of them, and passing it from `evaluate`'s `inout`
    /// copied its 408 bytes into a temporary at every pair. A plan passes to `evaluatePair`
    /// as an unretained reference, guaranteed by the caller's local reference to the plans'
    /// array (`self` is mutated in the call, so the engine's own array could not vouch for it,
    /// and the plan was retained and released around every call).
    private mutating func evaluatePairs(from start: Int, plans: [RulePlan], model: borrowing FlowModel, now: EventTime,
                                        into out: inout [AlertTransition]) -> Int {
        var pair = start
        while true {
            pair = schedule.firstDue(from: pair, now)
            guard pair < schedule.pairRule.count else { break }
            let plan = Unmanaged.passUnretained(plans[schedule.pairRule[pair]])
            if plan._withUnsafeGuaranteedRef({ $0.kind }) == .score { return pair }
            plan._withUnsafeGuaranteedRef {
                evaluatePair($0, site: schedule.pairSite[pair], pair: pair, model: model, now: now, into: &out)
            }
            schedule.pass(pair)
            pair += 1
        }
        return pair
    }

    /// One rule at one site. The sentence is built only when the step makes a transition (the
    /// dashboard describes active alerts when it draws them: `activeAlerts(model:)`).
    private mutating func evaluatePair(_ plan: RulePlan, site: Int, pair: Int, model: borrowing FlowModel, now: EventTime,
                                       into out: inout [AlertTransition]) {
        let key = AlertKey(rule: plan.index, site: site)
        let basis = readBasis(plan, site: site, model: model, now: now)
        if let basis, keepEstimate(plan, site: site, pair: pair, key: key, basis: basis, model: model, now: now) {
            return   // made due by data that left its outcome as it was
        }
        describing = false
        let record = hasAlert(key) ? alerts[key] : nil
        if plan.kind == .stale, record == nil, schedule.offGrid,
           case .known(let target, _, _) = evaluate(plan, site: site, model: model, now: now), target != nil {
            // A stale rule fires on the tick grid only. Off it (live, right after a group of
            // lines) its feed's data has just moved: a producer sending a backlog in time order
            // left hours-old data in hand after its first group, and the rule fired there and
            // resolved with the next group 46 ms later, paging every lead. Its silence grows with
            // time, so the next tick (at most a tick later) fires it if it still holds.
            schedule.evaluated(pair, nextAt: now.floored(to: config.tick) + config.tick, basis: basis)
            return
        }
        if plan.kind == .trend, record == nil, basis != nil {
            // A trend without an alert: only whether `now` calls for an early warning matters
            // (else the step does nothing), and the lookahead, run for the estimate anyway, calls
            // `now` first, as `trendOutcome` would (exactly so where the margin cannot call it).
            // The separate fit was a second pass over the window's points at every evaluation.
            refreshTrendPoints(plan, site: site, model: model)
            let (due, warns) = trendLookahead(plan, site: site, model: model, now: now, read: basis)
            if warns == false {
                schedule.evaluated(pair, nextAt: due, basis: basis)
                return
            }
        }
        var outcome = evaluate(plan, site: site, model: model, now: now, read: basis)
        if record != nil || outcome.target != nil {
            // An early warning whose metric has reached its level is over at once: the
            // threshold rule has it from there (a trend outcome of 0 minutes to breach).
            var clear = plan.clear
            if plan.kind == .trend, case .known(nil, 0, _) = outcome { clear = .zero }
            var trial = record?.lifecycle ?? AlertLifecycle()
            if !trial.step(outcome, now: now, raiseDelay: plan.raise, clearDelay: clear).isEmpty {
                describing = true
                outcome = evaluate(plan, site: site, model: model, now: now, read: basis)
            }
            step(key, outcome, raise: plan.raise, clear: clear, now: now, into: &out)
            if plan.kind == .stale { schedule.quietStale[pair] = !hasAlert(key) }
        }
        schedule.evaluated(pair, nextAt: nextEvaluation(plan, site: site, model: model, now: now, read: basis), basis: basis)
    }

    private mutating func step(_ key: AlertKey, _ outcome: RuleOutcome, raise: Duration, clear: Duration, now: EventTime,
                               into out: inout [AlertTransition]) {
        var rec = alerts[key] ?? AlertRecord()
        if !rec.lifecycle.isActive, case .known(nil, _, _) = outcome {
            return  // nothing to do: the common case, no record kept
        }
        if !rec.lifecycle.isActive, case .unknown = outcome { return }
        let before = rec.lifecycle.severity
        let kinds = rec.lifecycle.step(outcome, now: now, raiseDelay: raise, clearDelay: clear)
        for kind in kinds {
            let severity = rec.lifecycle.severity ?? before ?? .warning
            if kind == .firing || kind == .severityChanged {
                rec.leadID = lead(for: key.site, severity: severity)?.id
            }
            // Worse: the acknowledgement no longer holds (the notification policy clears it on
            // the same transition and tells the leads again). It was kept, and the dashboard
            // showed a critical alert as acknowledged while it escalated.
            if kind == .severityChanged, let b = before, severity > b { rec.ack = nil }
            let value: Double?
            if case .known(_, let v, _) = outcome { value = v } else { value = nil }
            out.append(AlertTransition(at: now, rule: config.rules[key.rule].id, site: siteCode(key.site), severity: severity,
                                       state: kind, value: value, summary: rec.lifecycle.lastSummary,
                                       leadID: kind == .pending || kind == .cancelled ? nil : rec.leadID,
                                       since: rec.lifecycle.since ?? now))
            if kind == .resolved || kind == .cancelled {
                rec.lifecycle.reset()
                rec.ack = nil
                rec.leadID = nil
            }
        }
        if rec.lifecycle.isActive { alerts[key] = rec } else { alerts[key] = nil }
        alerting[alertFlag(key)] = rec.lifecycle.isActive
    }

    /// The lead who covers a site and severity: the first in configuration order.
    public func lead(for site: Int, severity: Severity) -> LeadConfig? {
        let unit = site < config.units.count ? config.units[site] : nil
        let code = siteCode(site)
        return config.leads.first { $0.covers(unit: unit, code: code, severity: severity) }
    }

    // MARK: - Rule kinds

    /// `mutating` here and on the other functions of a pair's evaluation (the rule kinds,
    /// `trendOutcome`, `nextEvaluation`, `trendLookahead`, `readScore`, `nextScoreEvaluation`),
    /// though they change nothing: called from a mutating function, a non-mutating one was handed
    /// a copy of the engine (264 bytes, three per evaluation), where a mutating one takes it in
    /// place.
    ///
    /// `read`: the rule's metric's value and `stableUntil` at `now`, when the caller has read them
    /// (`readBasis`, for the schedule's basis): a threshold or trend evaluation read each of
    /// them again, and the trend's lookahead the value a third time.
    mutating func evaluate(_ plan: RulePlan, site: Int, model: borrowing FlowModel, now: EventTime,
                           read: RuleSchedule.Basis? = nil) -> RuleOutcome {
        switch plan.kind {
        case .threshold: return evaluateThreshold(plan, site: site, model: model, now: now, read: read)
        case .stale: return evaluateStale(plan, site: site, model: model, now: now)
        case .trend: return evaluateTrend(plan, site: site, model: model, now: now, read: read)
        case .score: return .unknown(summary: "")
        }
    }

    @inline(__always) func say(_ text: @autoclosure () -> String) -> String { describing ? text() : "" }

    private mutating func evaluateThreshold(_ p: RulePlan, site: Int, model: borrowing FlowModel, now: EventTime,
                                            read: RuleSchedule.Basis?) -> RuleOutcome {
        let metric = p.metric
        guard let v = read != nil ? read!.value : model.value(metric, site: site, at: now) else {
            return .unknown(summary: say("\(siteName(site)) \(metric.label): no current data"))
        }
        let l = p.levels[site]
        let key = AlertKey(rule: p.index, site: site)
        let current = hasAlert(key) ? alerts[key]?.lifecycle.heldSeverity : nil
        let target = Self.thresholdTarget(value: v, direction: p.direction, levels: l, current: current)
        guard describing else { return .known(target: target, value: v, summary: "") }
        var summary = "\(siteName(site)) \(metric.label) \(Format.value(v, metric))"
        if let t = target {
            let level = (t == .critical ? l.critical : l.warning) ?? 0
            if p.direction.beyond(v, level) {
                summary += " (\(t.rawValue) \(p.direction.reachedWords) \(Format.value(level, metric)))"
            } else {
                // Held by hysteresis: back inside the level, not yet past the clear level.
                // It clears at the clear level itself (`thresholdTarget`): "until below 90%" read
                // as under 90.
                let clearLevel = (t == .critical ? l.criticalClear : l.clear) ?? level
                summary += " (\(t.rawValue) until back to \(Format.value(clearLevel, metric)))"
            }
        }
        return .known(target: target, value: v, summary: summary)
    }

    /// The severity a threshold calls for, with hysteresis: an active severity holds until the
    /// value is back past its clear level.
    public static func thresholdTarget(value v: Double, direction d: Direction, levels l: ThresholdLevels, current: Severity?) -> Severity? {
        if let c = l.critical, d.beyond(v, c) { return .critical }
        if current == .critical, let cc = l.criticalClear, d.beyond(v, cc), v != cc { return .critical }
        if let w = l.warning, d.beyond(v, w) { return .warning }
        if current != nil, let cl = l.clear, d.beyond(v, cl), v != cl {
            return l.warning != nil ? .warning : (current == .critical ? .critical : nil)
        }
        return nil
    }

    private mutating func evaluateStale(_ p: RulePlan, site: Int, model: borrowing FlowModel, now: EventTime) -> RuleOutcome {
        let feed = p.feed
        let seen = model.lastSeen(feed, site: site)
        guard let from = model.silentSince(feed, site: site) else { return .unknown(summary: "") }
        let age = model.silence(from: from, to: now)   // less the time the input was held
        var target: Severity? = nil
        if let c = p.criticalAfter, age > c { target = .critical } else if age > p.expected { target = .warning }
        let value = (age.minutesValue * 100).rounded() / 100
        guard describing else { return .known(target: target, value: value, summary: "") }
        let name = siteName(site), since = now - from, expected = "expected every \(p.expected)"
        let what: String
        if seen == nil {
            what = "No \(feed.label) data from \(name) yet (\(expected))"
        } else if target == nil {
            // What a resolved alert tells its lead: the feed is current again.
            what = "\(feed.label) data from \(name) is current (latest \(since < .minutes(1) ? "under a minute" : Format.duration(since)) ago, \(expected))"
        } else if since == age {
            what = "No \(feed.label) data from \(name) for \(Format.duration(since)) (\(expected))"
        } else {
            let held = Duration(millis: since.millis - age.millis)
            what = "No \(feed.label) data from \(name) for \(Format.duration(since)) (\(Format.duration(held)) of it while urgentflow held its input; \(expected))"
        }
        return .known(target: target, value: value, summary: what)
    }

    private mutating func evaluateTrend(_ r: RulePlan, site: Int, model: borrowing FlowModel, now: EventTime,
                                        read: RuleSchedule.Basis?) -> RuleOutcome {
        let name = describing ? siteName(site) : ""
        guard let v = read != nil ? read!.value : model.value(r.metric, site: site, at: now) else {
            return .unknown(summary: say("\(name) \(r.metric.label): no current data"))
        }
        refreshTrendPoints(r, site: site, model: model)
        return trendOutcome(r, site: site, points: r.trendCache[site].points, value: v, now: now, step: model.history.step)
    }

    /// History points change only when the history gains a sample: cached per rule and site, and
    /// brought up to date with the samples since.
    @inline(__always)
    func refreshTrendPoints(_ r: RulePlan, site: Int, model: borrowing FlowModel) {
        let cache = r.trendCache[site]
        if cache.sample != model.lastHistorySample || cache.sample == nil {
            model.updatePoints(r.metric, site: site, window: r.window, since: cache.sample, into: &cache.points)
            cache.sample = model.lastHistorySample
        }
    }

    /// A trend rule's outcome at `now` from the history `points` (in time order, none after `now`)
    /// and the current value `v` (what `evaluateTrend` reads from the model; the schedule's
    /// lookahead gives it the points the history will have).
    mutating func trendOutcome(_ r: RulePlan, site: Int, points: [(EventTime, Double)], value v: Double, now: EventTime,
                      step: Duration) -> RuleOutcome {
        let name = describing ? siteName(site) : ""
        // The points still inside the window at `now` (in time order, so one run of them:
        // `inWindow`), then the current value.
        var lo = 0
        while lo < points.count, now - points[lo].0 > r.window { lo += 1 }
        var hi = lo
        while hi < points.count, !(points[hi].0 > now) { hi += 1 }
        let inWindow = points[lo..<hi]
        let count = inWindow.count + 1
        let first = inWindow.first?.0 ?? now
        let minPoints = max(4, Int(r.window.millis / step.millis / 2))
        guard count >= minPoints, now - first >= Duration(millis: r.window.millis / 2) else {
            return .unknown(summary: say("\(name) \(r.metric.label): not enough history for a trend"))
        }
        let t0 = first
        // Least-squares slope per hour (two passes, in time order).
        let n = Double(count)
        var sumX = 0.0, sumY = 0.0
        for (t, y) in inWindow { sumX += (t - t0).hoursValue; sumY += y }
        sumX += (now - t0).hoursValue
        sumY += v
        let mx = sumX / n, my = sumY / n
        var sxy = 0.0, sxx = 0.0
        for (t, y) in inWindow {
            let x = (t - t0).hoursValue
            sxy += (x - mx) * (y - my); sxx += (x - mx) * (x - mx)
        }
        let xNow = (now - t0).hoursValue
        sxy += (xNow - mx) * (v - my); sxx += (xNow - mx) * (xNow - mx)
        guard sxx > 0 else { return .unknown(summary: say("\(name) \(r.metric.label): not enough history for a trend")) }
        let slope = sxy / sxx
        let toward = r.direction == .above ? slope : -slope
        if r.direction.beyond(v, r.threshold) {
            return .known(target: nil, value: 0, summary: say("\(name) \(r.metric.label) \(Format.value(v, r.metric)) has passed \(Format.value(r.threshold, r.metric)): early warning over, see the threshold alert"))
        }
        guard toward > 0 else {
            return .known(target: nil, value: -1, summary: say("\(name) \(r.metric.label) \(Format.value(v, r.metric)), not moving toward \(Format.value(r.threshold, r.metric))"))
        }
        // Capped: a near-flat slope projects a crossing centuries away.
        let hours = min(100_000, abs(r.threshold - v) / toward)
        let minutes = (hours * 60).rounded()
        let within = hours * 3_600_000 <= Double(r.horizon.millis)
        let severity = r.severity
        guard describing else { return .known(target: within ? severity : nil, value: minutes, summary: "") }
        let rate = Format.value(abs(slope), r.metric)
        let summary = "\(name) \(r.metric.label) \(Format.value(v, r.metric)) \(slope > 0 ? "rising" : "falling") \(rate)/h: "
            + "will pass \(Format.value(r.threshold, r.metric)) in about \(Format.duration(Duration(millis: Int64(minutes) * 60_000)))"
        return .known(target: within ? severity : nil, value: minutes, summary: summary)
    }

    /// A site's escalation score at `now`: the outcome, and the score and level (nil: too few
    /// parameters known).
    func scoreOutcome(_ plan: RulePlan, site: Int, model: FlowModel, now: EventTime) -> (RuleOutcome, Double?, Int?) {
        var score = 0.0, known = 0
        let bands = plan.scoreBands
        for p in plan.scoreParameters {
            if let v = model.value(p.metric, site: site, at: now) {
                score += ScoreRule.Parameter.points(for: v, direction: p.direction, bands: bands[p.bands])
                known += 1
            }
        }
        return scoreOutcome(plan, score: score, known: known, site: site)
    }

    /// The same from the sum of the points of the parameters known, and their number.
    func scoreOutcome(_ plan: RulePlan, score: Double, known: Int, site: Int) -> (RuleOutcome, Double?, Int?) {
        let parameters = plan.scoreParameters.count
        let share = parameters == 0 ? 0 : Double(known) / Double(parameters)
        if share < plan.minKnownShare {
            return (.unknown(summary: say("\(siteName(site)) escalation score: only \(known) of \(parameters) parameters known")), nil, nil)
        }
        let level = ScoreRule.level(for: score, levels: plan.scoreLevels)
        let partial = known < parameters ? ", \(known) of \(parameters) parameters" : ""
        return (.known(target: Self.levelSeverity(level, plan), value: Double(level),
                       summary: say("\(siteName(site)) OPEL \(level) (score \(Format.number(score))\(partial))")), score, level)
    }

    /// The system roll-up by weight over the sites with a known score.
    func systemScoreOutcome(_ plan: RulePlan, siteScores: [(site: Int, score: Double)]) -> (RuleOutcome, Double?, Int?) {
        let sites = plan.sites
        let sys = config.units.count
        var wsum = 0.0, total = 0.0, allWeight = 0.0
        for site in sites where site < sys { allWeight += config.units[site].weight ?? 0 }
        for (site, score) in siteScores {
            let w = config.units[site].weight ?? 0
            wsum += w
            total += w * score
        }
        if allWeight <= 0 || wsum < allWeight * 0.5 {
            return (.unknown(summary: say("System escalation score: too few sites scored")), nil, nil)
        }
        let score = total / wsum
        let level = ScoreRule.level(for: score, levels: plan.scoreLevels)
        return (.known(target: Self.levelSeverity(level, plan), value: Double(level),
                       summary: say("\(config.name) system OPEL \(level) (weighted score \(Format.number(score)))")), score, level)
    }

    /// The sites of a score rule that are due, then the system roll-up if it is due or a site's
    /// score changed.
    ///
    /// The rule's figures are read from the plan: binding the rule out of `plan.rule` (`if case
    /// .score(let r)`) copied it, a retain and release of each of its arrays and strings.
    private mutating func evaluateScore(_ plan: RulePlan, model: inout FlowModel, now: EventTime,
                                        into out: inout [AlertTransition]) {
        let sys = config.units.count
        var rescored = false
        for (k, site) in plan.sites.enumerated() where site < sys && schedule.isDue(plan.firstPair + k, now) {
            describing = false
            let pair = plan.firstPair + k
            let (sum, known, changed) = readScore(plan, k: k, site: site, model: model, now: now)
            // Made due by data that left every parameter's points, and the instant each can
            // next change, as they were: the score, its outcome, and when it is next due are as
            // at its last evaluation, which stands (on the grid: its estimate is a tick of it).
            // Most ambulance messages leave the wait's points as they were (7 in 10 scores).
            if !changed, !schedule.offGrid, schedule.estimateAhead(pair, now) {
                schedule.keepEstimate(pair)
                continue
            }
            var (outcome, score, level) = scoreOutcome(plan, score: sum, known: known, site: site)
            if scores[site] != score { rescored = true }
            setScore(site: site, score: score, level: level, model: &model)
            stepDescribing(AlertKey(rule: plan.index, site: site), &outcome, raise: plan.raise, clear: plan.clear, now: now, into: &out) {
                $0.scoreOutcome(plan, site: site, model: model, now: now).0
            }
            schedule.due[pair] = nextScoreEvaluation(plan, site: site, k: k, now: now)
            schedule.timeDue[pair] = schedule.due[pair]
        }
        if let k = plan.sites.firstIndex(of: sys), rescored || schedule.isDue(plan.firstPair + k, now) {
            let siteScores = plan.sites.compactMap { s in s < sys ? scores[s].map { (site: s, score: $0) } : nil }
            describing = false
            var (outcome, score, level) = systemScoreOutcome(plan, siteScores: siteScores)
            setScore(site: sys, score: score, level: level, model: &model)
            stepDescribing(AlertKey(rule: plan.index, site: sys), &outcome, raise: plan.raise, clear: plan.clear, now: now, into: &out) {
                $0.systemScoreOutcome(plan, siteScores: siteScores).0
            }
            schedule.due[plan.firstPair + k] = nextScoreEvaluation(plan, site: sys, k: k, now: now)
        }
    }

    /// Steps an alert with an outcome computed without its sentence; describes it first when the
    /// step makes a transition.
    private mutating func stepDescribing(_ key: AlertKey, _ outcome: inout RuleOutcome, raise: Duration, clear: Duration, now: EventTime,
                                         into out: inout [AlertTransition], describe: (Self) -> RuleOutcome) {
        let record = hasAlert(key) ? alerts[key] : nil
        guard record != nil || outcome.target != nil else { return }
        var trial = record?.lifecycle ?? AlertLifecycle()
        if !trial.step(outcome, now: now, raiseDelay: raise, clearDelay: clear).isEmpty {
            describing = true
            outcome = describe(self)
        }
        step(key, outcome, raise: raise, clear: clear, now: now, into: &out)
    }

    /// Records a site's (or the system's) score; rules reading the score at that site are due.
    private mutating func setScore(site: Int, score: Double?, level: Int?, model: inout FlowModel) {
        if scores[site] != score || levels[site] != level {
            for pair in schedule.scoreDependents[site] { schedule.due[pair] = RuleSchedule.dataChanged }
            if !schedule.scoreDependents[site].isEmpty { schedule.madeDueAgain = true }
        }
        scores[site] = score; levels[site] = level
        model.setScore(site: site, score: score, level: level)
    }

    static func levelSeverity(_ level: Int, _ plan: RulePlan) -> Severity? {
        if level >= plan.criticalLevel { return .critical }
        if level >= plan.warningLevel { return .warning }
        return nil
    }

    // MARK: - Acknowledgement and reading

    /// Records an acknowledgement of an active alert, until `expires` (else `at` + the configured
    /// `ackExpiry`; neither: until it resolves) or the alert gets worse. Returns false if no such
    /// active alert.
    public mutating func acknowledge(rule: String, site: String, by: String, note: String?, at: EventTime,
                                     expires: EventTime? = nil) -> Bool {
        // Not while pending: no lead has been told, and the notifications would not carry it
        // (the alert fired and escalated under an acknowledgement shown on screen).
        guard let key = alertKey(rule: rule, site: site), var rec = alerts[key], rec.lifecycle.isActive,
              rec.lifecycle.phase != .pending else { return false }
        rec.ack = Acknowledgement(by: by, at: at, note: note, expires: config.ackExpires(givenAt: at, expires: expires))
        alerts[key] = rec
        return true
    }

    /// The acknowledgement of the alert of `rule` at `site` in force at `now` (not expired; one
    /// cleared by a worsening is gone); nil when none.
    public func acknowledgement(rule: String, site: String, at now: EventTime) -> Acknowledgement? {
        guard let key = alertKey(rule: rule, site: site), let a = alerts[key]?.ack, a.holds(at: now) else { return nil }
        return a
    }

    /// Whether the alert of `rule` at `site` is pending (raised, waiting out its delay): why an
    /// acknowledgement of it is refused.
    public func isPending(rule: String, site: String) -> Bool {
        alertKey(rule: rule, site: site).flatMap { alerts[$0] }?.lifecycle.phase == .pending
    }

    /// The rule ids of the alerts firing at unit code `site` (`SYSTEM` for the system), in rule
    /// order: what an acknowledgement of another there could have meant (`FlowEngine.ackRefusal`).
    public func firingRules(at site: String) -> [String] {
        guard let si = site == systemSiteCode ? config.units.count : config.unitIndex(site) else { return [] }
        return config.rules.indices.filter { ri in
            let key = AlertKey(rule: ri, site: si)
            guard hasAlert(key), let l = alerts[key]?.lifecycle else { return false }
            return l.isActive && l.phase != .pending
        }.map { config.rules[$0].id }
    }

    /// The unit codes rule id `rule` is evaluated at (`SYSTEM` for the system); nil for a rule
    /// the system does not have.
    public func sitesCovered(by rule: String) -> [String]? {
        guard let plan = plans.first(where: { $0.rule.id == rule }) else { return nil }
        return plan.sites.map(siteCode)
    }

    /// The key of the alert of rule id `rule` at unit code `site` (`SYSTEM` for the system);
    /// nil when either is unknown.
    func alertKey(rule: String, site: String) -> AlertKey? {
        guard let ri = config.rules.firstIndex(where: { $0.id == rule }),
              let si = site == systemSiteCode ? config.units.count : config.unitIndex(site) else { return nil }
        return AlertKey(rule: ri, site: si)
    }

    /// The later of two instants, either of which may be unknown.
    private func later(_ a: EventTime?, _ b: EventTime?) -> EventTime? {
        guard let a else { return b }
        guard let b else { return a }
        return Swift.max(a, b)
    }

    /// Active alerts for the dashboard: most severe first, then oldest first, then rule order.
    /// Each is described (value and sentence) as of the latest tick, from `model`: evaluations
    /// that make no transition do not build sentences.
    public func activeAlerts(model: FlowModel) -> [AlertSnapshot] {
        var list: [(AlertKey, AlertRecord)] = alerts.filter { $0.value.lifecycle.isActive }.map { ($0.key, $0.value) }
        list.sort { a, b in
            let sa = a.1.lifecycle.severity ?? .warning, sb = b.1.lifecycle.severity ?? .warning
            if sa != sb { return sa > sb }
            let ta = a.1.lifecycle.since ?? EventTime(millis: 0), tb = b.1.lifecycle.since ?? EventTime(millis: 0)
            if ta != tb { return ta < tb }
            if a.0.rule != b.0.rule { return a.0.rule < b.0.rule }
            return a.0.site < b.0.site
        }
        // The instant the alerts are described at (below): an acknowledgement expired by then is
        // not shown as one.
        let now = describedAt(model)
        return list.map { key, rec in snapshot(key, rec, model: model, at: now) }
    }

    /// The active alert of rule id `rule` at unit code `site` (`SYSTEM` for the system), as
    /// `activeAlerts(model:)` gives it: its value and sentence as of the latest tick. nil when it
    /// is not active. What a notification made at a tick says of the alert (FlowNotify).
    public func activeAlert(rule: String, site: String, model: FlowModel, at: EventTime? = nil) -> AlertSnapshot? {
        guard let key = alertKey(rule: rule, site: site), hasAlert(key), let rec = alerts[key], rec.lifecycle.isActive else { return nil }
        return snapshot(key, rec, model: model, at: at ?? describedAt(model))
    }

    /// The instant active alerts are described at: the later of the last evaluated tick and the
    /// model's clock.
    private func describedAt(_ model: FlowModel) -> EventTime? { later(schedule.lastTick, model.now) }

    /// One active alert, described at `now` (nil: as at its last transition).
    private func snapshot(_ key: AlertKey, _ rec: AlertRecord, model: FlowModel, at now: EventTime?) -> AlertSnapshot {
        let state: AlertState = rec.lifecycle.phase == .pending ? .pending : (rec.lifecycle.isUnknown ? .unknown : .firing)
        let lead = rec.leadID.flatMap { id in config.leads.first { $0.id == id } }
        var value = rec.lifecycle.lastValue, summary = rec.lifecycle.lastSummary
        // Described at the model's clock, the instant the grid reads its values at: the last
        // evaluated tick lags it wherever the schedule skips ticks (a growing wait between
        // its levels), and the panel said 45 minutes where the grid said 47.
        if let at = now {
            switch describe(key, model: model, at: at) {
            case .known(let target, let v, let text):
                value = v; summary = text
                // Firing at one severity while the value calls for another: the change waits
                // out the raise (or clear) delay. Said, so "warning" next to a critical level
                // does not read as a mistake.
                if rec.lifecycle.phase == .firing, !rec.lifecycle.isUnknown, let t = target, let s = rec.lifecycle.severity, t != s {
                    summary += t > s ? " · escalating to \(t.rawValue)" : " · stepping down to \(t.rawValue)"
                } else if rec.lifecycle.phase == .firing, !rec.lifecycle.isUnknown, target == nil {
                    // Back within its levels, waiting out the clear delay: said, with when it
                    // resolves if it stays there. A critical "Longest wait 9.9 min" with nothing
                    // after it read to a trainee as a critical 9.9-minute wait (user test).
                    let plan = plans[key.rule]
                    let due = rec.lifecycle.nextDeadline(raiseDelay: plan.raise, clearDelay: plan.clear)
                    summary += " · resolving" + (due.map { " at " + model.calendar.clockText($0) } ?? "")
                }
            case .unknown(let text): value = nil; summary = text
            }
        }
        // An expired acknowledgement is no acknowledgement (the leads are told again): shown
        // as not acknowledged, with who it was and when it expired.
        let ack = rec.ack.flatMap { a in now.map(a.holds(at:)) ?? true ? a : nil }
        let expired = ack == nil ? rec.ack : nil
        var snap = AlertSnapshot(rule: config.rules[key.rule].id, site: siteCode(key.site), severity: rec.lifecycle.severity ?? .warning,
                                 state: state, value: value, summary: summary,
                                 since: rec.lifecycle.since ?? EventTime(millis: 0), leadID: rec.leadID, leadName: lead?.name,
                                 acknowledgedBy: ack?.by, acknowledgedAt: ack?.at, ackNote: ack?.note)
        let plan = plans[key.rule]
        switch plan.kind {
        case .threshold: snap.cause = .metric(plan.metric)
        case .trend: snap.cause = .trend(plan.metric)
        case .stale: snap.cause = .stale(plan.feed)
        case .score: snap.cause = .score
        }
        snap.firedAt = state == .pending ? nil : rec.lifecycle.firingSince
        snap.ackExpires = ack?.expires
        snap.expiredAckBy = expired?.by
        snap.ackExpiredAt = expired?.expires
        return snap
    }

    /// A rule's outcome at a site at `at`, with its sentence.
    func describe(_ key: AlertKey, model: FlowModel, at: EventTime) -> RuleOutcome {
        var engine = self
        engine.describing = true
        let plan = plans[key.rule]
        guard plan.kind == .score else { return engine.evaluate(plan, site: key.site, model: model, now: at) }
        if key.site < config.units.count { return engine.scoreOutcome(plan, site: key.site, model: model, now: at).0 }
        let known = plan.sites.compactMap { s in s < config.units.count ? scores[s].map { (site: s, score: $0) } : nil }
        return engine.systemScoreOutcome(plan, siteScores: known).0
    }

    /// Worst firing severity per site index (for site status), and whether a stale rule fires.
    func firingSeverity(site: Int) -> Severity? {
        var worst: Severity? = nil
        for (k, rec) in alerts where k.site == site && rec.lifecycle.phase == .firing && !rec.lifecycle.isUnknown {
            if let s = rec.lifecycle.severity, worst == nil || s > worst! { worst = s }
        }
        return worst
    }

    func staleFeeds(site: Int) -> [FeedKind] {
        var feeds: [FeedKind] = []
        for (k, rec) in alerts where k.site == site && rec.lifecycle.phase == .firing {
            if case .stale(let r) = config.rules[k.rule], !feeds.contains(r.feed) { feeds.append(r.feed) }
        }
        return FeedKind.allCases.filter(feeds.contains)
    }

    /// The status of a metric's value at a site, for the screen: the worse of the severity its
    /// threshold alert fires at and the level the value itself is past (so a value over the
    /// critical level shows critical while its alert waits out the raise delay); with the levels.
    func ruleSeverity(metric: MetricKey, site: Int, value: Double?) -> (Severity?, ThresholdLevels?) {
        var worst: Severity? = nil
        var levels: ThresholdLevels? = nil
        func worsen(_ s: Severity?) { if let s, worst == nil || s > worst! { worst = s } }
        for plan in plans where plan.kind == .threshold && plan.metric == metric && plan.sites.contains(site) {
            let l = plan.levels[site]
            if levels == nil { levels = l }
            if let rec = alerts[AlertKey(rule: plan.index, site: site)], rec.lifecycle.phase == .firing {
                worsen(rec.lifecycle.severity)
            }
            if let v = value {
                if let c = l.critical, plan.direction.beyond(v, c) { worsen(.critical) }
                else if let w = l.warning, plan.direction.beyond(v, w) { worsen(.warning) }
            }
        }
        return (worst, levels)
    }
}

/// Number and duration formatting shared by summaries and screens.
public enum Format {
    public static func number(_ v: Double) -> String {
        let r = rounded(v)
        if r == r.rounded() { return String(Int64(r)) }
        return String(r)
    }

    /// A value as the sentences (`number`, `value`) say it: to one decimal. A notification's
    /// value is rounded so (FlowNotify), to read as its summary does.
    public static func rounded(_ v: Double) -> Double { (v * 10).rounded() / 10 }

    public static func value(_ v: Double, _ metric: MetricKey) -> String {
        let u = metric.unit
        switch u {
        case "%": return number(v) + "%"
        case "min": return number(v) + " min"
        case "h": return number(v) + " h"
        case "d": return number(v) + " d"
        default: return number(v)
        }
    }

    /// `2h05m`, `45m`, `3d4h`.
    public static func duration(_ d: Duration) -> String {
        if d.millis > 0, d.millis < 60_000 { return "\(d.millis / 1000)s" }   // configurations of seconds (tests, demos)
        let m = max(0, d.millis / 60_000)
        if m < 60 { return "\(m)m" }
        if m < 48 * 60 { return "\(m / 60)h" + (m % 60 == 0 ? "" : RFC3339.pad(m % 60, 2) + "m") }
        return "\(m / 1440)d" + ((m % 1440) / 60 == 0 ? "" : "\((m % 1440) / 60)h")
    }
}

/// One rule flattened for evaluation: plain values only, so the per-tick loop copies nothing.
final class RulePlan: @unchecked Sendable {
    enum Kind { case threshold, stale, trend, score }
    let kind: Kind
    let index: Int
    let rule: RuleConfig
    let sites: [Int]
    let raise: Duration
    let clear: Duration
    // threshold and trend
    let metric: MetricKey
    let direction: Direction
    /// Threshold levels by site index (overrides applied).
    let levels: [ThresholdLevels]
    // stale
    let feed: FeedKind
    let expected: Duration
    let criticalAfter: Duration?
    // trend
    let threshold: Double
    let window: Duration
    let horizon: Duration
    let severity: Severity
    /// Trend rules: history points per site, refreshed when the history gains a sample.
    let trendCache: [TrendCache]
    /// Score rules: each parameter's metric, direction and place in `scoreBands`, which holds the
    /// bands of all parameters in one array of plain values. A score reads every parameter at
    /// every evaluation, and copying a parameter out of the rule retained its array of bands.
    let scoreParameters: [ScoreParameterPlan]
    let scoreBands: [(bound: Double, points: Double)]
    /// Score rules: the rule's levels and the share of parameters it needs known (the rule
    /// itself is not bound out of `rule` per evaluation: see `RuleEngine.evaluateScore`).
    let scoreLevels: [Double]
    let warningLevel: Int
    let criticalLevel: Int
    let minKnownShare: Double
    struct ScoreParameterPlan {
        let metric: MetricKey
        let direction: Direction
        let bands: Range<Int>
    }
    /// Score rules: each parameter at each site as last read (`RuleEngine.readScore`), indexed
    /// `k * scoreParameters.count + p` for the `k`-th site.
    var scoreReadings: [ScoreReading]
    struct ScoreReading {
        /// The change stamps of the data the parameter reads at the site when it was read; nil:
        /// never read, or not from a feed (read at every evaluation).
        var stamps: (UInt64, UInt64)?
        /// Its points then; nil: its value unknown.
        var points: Double?
        /// The first tick at which its points may change with time alone.
        var until = EventTime(millis: .min)
    }

    final class TrendCache: @unchecked Sendable {
        var sample: EventTime? { didSet { sums = nil; certificate = nil } }
        /// The latest lookahead's certificate (`TrendCertificate`), for its points.
        var certificate: TrendCertificate?
        var points: [(EventTime, Double)] = []
        /// The points' count and running sums for the lookahead's fit, in hours from the first
        /// point (`RuleEngine.trendLookahead`); nil until computed for these points.
        var sums: (n: Double, sx: Double, sy: Double, sxx: Double, sxy: Double)?
    }

    /// Index of this rule's first (rule, site) pair in the schedule; a score rule has one slot.
    let firstPair: Int

    init(index: Int, rule: RuleConfig, sites: [Int], firstPair: Int, config: SystemConfig) {
        self.firstPair = firstPair
        self.trendCache = (0...config.units.count).map { _ in TrendCache() }
        self.index = index
        self.rule = rule
        self.sites = sites
        let none = ThresholdLevels(warning: nil, critical: nil, clear: nil, criticalClear: nil)
        var metric = MetricKey.gaOccupancyPct, direction = Direction.above, levels: [ThresholdLevels] = []
        var feed = FeedKind.bed, expected = Duration.zero, criticalAfter: Duration? = nil
        var threshold = 0.0, window = Duration.zero, horizon = Duration.zero, severity = Severity.warning
        var raise = Duration.zero, clear = Duration.zero
        var scoreParameters: [ScoreParameterPlan] = [], scoreBands: [(bound: Double, points: Double)] = []
        var scoreLevels: [Double] = [], warningLevel = 0, criticalLevel = 0, minKnownShare = 0.0
        switch rule {
        case .threshold(let r):
            kind = .threshold
            metric = r.metric; direction = r.direction; raise = r.raiseDelay; clear = r.clearDelay
            levels = (0...config.units.count).map { site in
                site < config.units.count ? r.levels(for: config.units[site].code) : r.levels(for: systemSiteCode)
            }
        case .stale(let r):
            kind = .stale
            feed = r.feed; expected = r.expected; criticalAfter = r.criticalAfter
        case .trend(let r):
            kind = .trend
            metric = r.metric; direction = r.direction; threshold = r.threshold; window = r.window; horizon = r.horizon
            severity = r.severity; raise = r.raiseDelay; clear = r.clearDelay
        case .score(let r):
            kind = .score
            raise = r.raiseDelay; clear = r.clearDelay
            scoreLevels = r.levels; warningLevel = r.warningLevel; criticalLevel = r.criticalLevel; minKnownShare = r.minKnownShare
            for p in r.parameters {
                scoreParameters.append(.init(metric: p.metric, direction: p.direction, bands: scoreBands.count..<(scoreBands.count + p.bands.count)))
                scoreBands += p.bands
            }
        }
        if levels.isEmpty { levels = Array(repeating: none, count: config.units.count + 1) }
        self.metric = metric
        self.direction = direction
        self.levels = levels
        self.feed = feed
        self.expected = expected
        self.criticalAfter = criticalAfter
        self.threshold = threshold
        self.window = window
        self.horizon = horizon
        self.severity = severity
        self.raise = raise
        self.clear = clear
        self.scoreParameters = scoreParameters
        self.scoreBands = scoreBands
        self.scoreLevels = scoreLevels
        self.warningLevel = warningLevel
        self.criticalLevel = criticalLevel
        self.minKnownShare = minKnownShare
        self.scoreReadings = Array(repeating: ScoreReading(), count: sites.count * scoreParameters.count)
    }
}
