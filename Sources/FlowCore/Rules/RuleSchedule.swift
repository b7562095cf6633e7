/// Which rules are due at a tick: the rule engine evaluates a rule at a site only at the ticks
/// where its outcome can differ from the last evaluation, and gives exactly the transitions of an
/// evaluation of every rule at every tick (a test replays every bundled scenario both ways).
///
/// A rule at a site is due again at the earliest of:
/// - a change of the data it reads: a message or housekeeping on the feed at that site (for the
///   system, at any site), or a new escalation score for rules reading the score;
/// - the instant its metric's value next changes by itself (`FlowModel.stableUntil`: staleness,
///   midnight, a window edge);
/// - for a metric that grows with time, the first tick at which the severity it calls for changes
///   (found by bisection: the severity is monotonic in a growing value);
/// - a stale-feed rule's next level of silence;
/// - for an escalation score, the same for each parameter at the site;
/// - the end of its alert's raise or clear delay.
/// A trend rule's slope moves with the clock even when nothing arrives: between two changes of
/// its points it is due at the first tick its early warning would start or stop
/// (`trendLookahead`).
///
/// A rule made due by a message that leaves its metric's value as it was, and its next change by
/// itself no earlier (fresh data on a feed pushes its staleness later), keeps its estimate: the
/// outcome at every tick up to the estimate is as it was. So does a stale-feed rule without an
/// alert: a message only moves the start of its silence later, and it stays quiet. So does a
/// threshold without an alert whose new value calls for no severity (its estimate does not
/// depend on the value). And, on the grid: a threshold on a metric that grows with time whose
/// severity is as it was both now and at the estimate's last tick (monotonic in between); a
/// trend rule without an alert whose lookahead's certificate covers the new value
/// (`TrendCertificate`); a site's score whose parameters' points and next changes are as they
/// were. An ambulance `clear` makes no rule due at all while its feed is current
/// (`FlowModel.apply`).
///
/// Evaluating a rule at a tick where nothing changed is harmless (the lifecycle is idempotent),
/// so every estimate here may be early, never late.
struct RuleSchedule: Sendable {
    /// Per (rule, site) pair (a score rule: per site and the system): when it is next due.
    var due: [EventTime]
    /// When it is next due by time alone (its last evaluation's estimate), and what that
    /// estimate assumed: its metric's value and `stableUntil` then (a stale-feed rule: no value,
    /// and the start of its feed's silence). A message that leaves the value as it was and
    /// `stableUntil` no earlier leaves the estimate good (for a metric that grows with time, the
    /// severity it calls for: `RuleEngine.keepEstimate`).
    var timeDue: [EventTime]
    var basis: [Basis?]
    struct Basis: Equatable {
        var value: Double?
        var stable: EventTime
    }
    var nextDue = EventTime(millis: .min)
    /// `due` of a pair whose data changed since its last evaluation (evaluations set a real
    /// instant): due at once, and the pairs an evaluation off the grid takes.
    static let dataChanged = EventTime(millis: .min)
    /// Evaluating off the tick grid (live, right after a group of lines): only the pairs whose
    /// data changed are evaluated, in full; the others wait for the grid's next tick. That is
    /// the definition, in this mode and in the every-tick reference alike.
    var offGrid = false
    /// Every rule at every tick: the reference the schedule is tested against.
    var everyTick = false
    /// The tick of the latest evaluation (active alerts are described as of then).
    var lastTick: EventTime?
    /// The rule (index in the engine's plans) of each pair, in pair order.
    let pairRule: [Int]
    /// The site of each pair, in pair order: reading it from the rule's list of sites retained
    /// and released that list at every evaluation.
    let pairSite: [Int]
    /// The pairs reading each (site, feed), indexed `site * 4 + feed.index`.
    let dependents: [[Int]]
    /// The pairs reading the score at each site (and the system at `units.count`).
    let scoreDependents: [[Int]]
    /// A stale-feed pair without an alert: a line on its feed only moves the start of the feed's
    /// silence later, which leaves its outcome quiet and its estimate early, never late, so the
    /// line does not make it due (`sync`). Each line made one due and evaluated only to keep its
    /// estimate (347 instructions a message, `Benchmarks/rule-cost.sh`). Kept by
    /// `RuleEngine.evaluatePair`, the one place a stale pair's alert comes and goes.
    var quietStale: [Bool]
    private var seenStamps: [UInt64]
    private var seenVersion: UInt64 = 0
    let tick: Duration
    /// How far ahead a lookahead reaches before it evaluates again anyway.
    static let horizon = Duration.hours(48)
    /// How far ahead a trend rule's lookahead reaches past the next history sample.
    static let trendReach = Duration.minutes(30)

    init(config: SystemConfig, plans: [RulePlan], pairs: Int) {
        let feeds = FeedKind.allCases.count
        let n = config.units.count
        var deps = Array(repeating: [Int](), count: n * feeds)
        var scoreDeps = Array(repeating: [Int](), count: n + 1)
        func reads(_ pair: Int, site: Int, feed: FeedKind) {
            if site < n { deps[site * feeds + feed.index].append(pair) }
            else { for s in 0..<n { deps[s * feeds + feed.index].append(pair) } }
        }
        for plan in plans {
            switch plan.kind {
            case .score:
                // Each site's score reads its parameters' feeds at that site; the system's reads
                // the sites' scores (made due when one changes).
                let feeds = Set(plan.rule.metricsRead.flatMap(\.feedsRead))
                for (k, site) in plan.sites.enumerated() where site < n {
                    for f in FeedKind.allCases where feeds.contains(f) { reads(plan.firstPair + k, site: site, feed: f) }
                }
            case .stale:
                for (k, site) in plan.sites.enumerated() { reads(plan.firstPair + k, site: site, feed: plan.feed) }
            case .threshold, .trend:
                let feeds = plan.metric.feedsRead
                for (k, site) in plan.sites.enumerated() {
                    for f in feeds { reads(plan.firstPair + k, site: site, feed: f) }
                    if feeds.isEmpty { scoreDeps[site].append(plan.firstPair + k) }
                }
            }
        }
        dependents = deps
        pairRule = plans.flatMap { plan in Array(repeating: plan.index, count: plan.sites.count) }
        pairSite = plans.flatMap { $0.sites }
        precondition(pairRule.count == pairs && pairSite.count == pairs)
        scoreDependents = scoreDeps
        due = Array(repeating: Self.dataChanged, count: pairs)
        timeDue = due
        basis = Array(repeating: nil, count: pairs)
        seenStamps = Array(repeating: 0, count: n * feeds)
        quietStale = plans.flatMap { Array(repeating: $0.kind == .stale, count: $0.sites.count) }
        tick = config.tick
    }

    /// Makes due the pairs whose data changed since the last look.
    mutating func sync(_ model: FlowModel) { sync(version: model.version, stamps: model.changeStamps) }

    /// The same, from the model's change stamps and their sum (`FlowModel.version`).
    mutating func sync(version: UInt64, stamps: [UInt64]) {
        guard version != seenVersion else { return }
        seenVersion = version
        for i in stamps.indices where stamps[i] != seenStamps[i] {
            seenStamps[i] = stamps[i]
            // By index: a `for in` over the list retained and released it at every message.
            for j in dependents[i].indices {
                let pair = dependents[i][j]
                if quietStale[pair] && !everyTick { continue }
                due[pair] = Self.dataChanged
            }
        }
        nextDue = EventTime(millis: .min)
    }

    /// The earliest instant any pair is due (`FlowModel.never` if none), after each evaluation:
    /// a plain loop over the milliseconds, which the compiler unrolls and vectorises, where
    /// `due.min()` compared element by element through `EventTime`'s `Comparable` (1.3% of a
    /// replay with rules).
    func earliestDue() -> EventTime {
        var earliest = FlowModel.never.millis
        for d in due { earliest = min(earliest, d.millis) }
        return EventTime(millis: earliest)
    }

    /// Whether a pair made due by data may keep its estimate at all (a rule kind's own test
    /// decides whether it does: `RuleEngine.keepEstimate`, a score's in `evaluateScore`): the
    /// estimate still ahead of `now`, and not the every-tick reference.
    @inline(__always) func estimateAhead(_ pair: Int, _ now: EventTime) -> Bool {
        !everyTick && timeDue[pair] > now
    }

    /// A pair just evaluated (or passed by for a reason): due next at `at`, by time, with the
    /// reads it was evaluated on.
    @inline(__always) mutating func evaluated(_ pair: Int, nextAt at: EventTime, basis b: Basis?) {
        due[pair] = at
        timeDue[pair] = at
        basis[pair] = b
    }

    /// A pair made due by data keeps its estimate: it is due when its last evaluation said.
    @inline(__always) mutating func keepEstimate(_ pair: Int) { due[pair] = timeDue[pair] }

    /// Whether a pair is due at `now`.
    @inline(__always) func isDue(_ pair: Int, _ now: EventTime) -> Bool {
        offGrid ? due[pair] == Self.dataChanged : everyTick || due[pair] <= now
    }

    /// The first pair from `pair` on that is due at `now` (`isDue`); the pair count if none. Most
    /// evaluated ticks have one or two pairs due of some forty: a scan of `due` alone, where
    /// checking each pair in the evaluation's loop reloaded the mode flags and the array around
    /// each check.
    /// The pairs it passes over are `pass`ed.
    mutating func firstDue(from pair: Int, _ now: EventTime) -> Int {
        if everyTick && !offGrid { return pair }
        let sentinel = Self.dataChanged
        let (first, least) = due.withUnsafeBufferPointer { due in
            var p = pair, least = Int64.max
            if offGrid {
                while p < due.count, due[p] != sentinel { least = min(least, due[p].millis); p += 1 }
            } else {
                while p < due.count, due[p] > now { least = min(least, due[p].millis); p += 1 }
            }
            return (p, least)
        }
        passedEarliest = min(passedEarliest, least)
        return first
    }

    /// The least `due` of the pairs the evaluation in progress has passed (skipped as not due, or
    /// evaluated), kept as it goes: every pair is passed once, so at its end this is the next
    /// instant a pair is due, with no second pass over them (`earliestDue`, whose 64-bit
    /// minimum the SSE2 build emulates, was 280 instructions an evaluation without LTO).
    var passedEarliest = Int64.max
    /// The evaluation in progress made pairs due (a score their rules read changed), maybe
    /// ones already passed: its end then takes the earliest over every pair.
    var madeDueAgain = false

    /// A pair evaluated: its new `due` is taken into `passedEarliest`.
    @inline(__always) mutating func pass(_ pair: Int) { passedEarliest = min(passedEarliest, due[pair].millis) }

    /// At the start of an evaluation.
    @inline(__always) mutating func startPassing() {
        passedEarliest = .max
        madeDueAgain = false
    }

    /// At its end: the next instant a pair is due.
    @inline(__always) func earliestPassed() -> EventTime {
        madeDueAgain ? earliestDue() : EventTime(millis: min(passedEarliest, FlowModel.never.millis))
    }

    /// The earliest instant at which a rule is due (the engine may skip the ticks before it).
    /// Takes the model's change stamps rather than the model: the engine asks before every
    /// message, and handing it the model it holds copied the model (a retain and release of
    /// every collection in it; measured 5% of a replay with rules).
    mutating func nextDue(version: UInt64, stamps: [UInt64]) -> EventTime {
        sync(version: version, stamps: stamps)
        return everyTick ? EventTime(millis: .min) : nextDue
    }

    /// The first tick after `now` (ticks are the multiples of `tick`; `now` itself may be off
    /// that grid: a live evaluation after a group of lines) before `end` at which `changed`
    /// holds, `changed` being false up to some tick and true from there on; `end` if none.
    @inline(__always)   // inlined with its predicate: no closure context (which copied the model)
    func firstTick(after now: EventTime, before end: EventTime, where changed: (EventTime) -> Bool) -> EventTime {
        let step = tick.millis
        let origin = now.floored(to: tick)           // the grid's tick at or before `now`
        let reach = min(end.millis, now.millis + Self.horizon.millis) - origin.millis
        guard reach > 0 else { return end }
        var hi: Int64 = (reach - 1) / step            // the last tick strictly before `end`
        guard hi >= 1 else { return end }
        if !changed(origin + Duration(millis: hi * step)) {
            return min(end, origin + Duration(millis: (hi + 1) * step))
        }
        var lo: Int64 = 0                            // changed(lo) is false (lo = 0 stands for `now`)
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if changed(origin + Duration(millis: mid * step)) { hi = mid } else { lo = mid }
        }
        return origin + Duration(millis: hi * step)
    }
}

extension RuleEngine {
    /// What a pair's evaluation at `now` reads that its estimate rests on (`RuleSchedule.Basis`):
    /// a threshold's or trend's value and `stableUntil`, a stale-feed rule's start of silence;
    /// nil for a score, or a trend on a metric that grows with time.
    @inline(__always)
    mutating func readBasis(_ plan: RulePlan, site: Int, model: borrowing FlowModel, now: EventTime) -> RuleSchedule.Basis? {
        switch plan.kind {
        case .threshold, .trend:
            guard plan.kind == .threshold || !FlowModel.growsWithTime(plan.metric) else { return nil }
            return reads.basis(plan.metric, site: site, model: model, now: now)
        case .stale:
            return model.silentSince(plan.feed, site: site).map { .init(value: nil, stable: $0) }
        case .score:
            return nil
        }
    }

    /// Keeps the estimate (`timeDue`) of a pair made due by data, unevaluated, where its outcome
    /// at every tick up to the estimate is as it was (`estimateStands`); returns whether it did.
    @inline(__always)
    mutating func keepEstimate(_ plan: RulePlan, site: Int, pair: Int, key: AlertKey, basis: RuleSchedule.Basis,
                               model: borrowing FlowModel, now: EventTime) -> Bool {
        guard let why = estimateStands(plan, site: site, pair: pair, key: key, basis: basis, model: model, now: now) else {
            return false
        }
        if why == .trendCertificate {
            // The estimate's own value no longer stands for what the history sampled since: a
            // later return to it must come through the certificate too, not through the equal
            // value (which assumes the samples took that value).
            schedule.basis[pair]!.value = .nan
        }
        schedule.keepEstimate(pair)
        return true
    }

    /// Why a pair's estimate stands: its value as it was, or a case of its rule kind that shows
    /// its outcome unchanged with the new value (the type's summary lists them); or, for a trend,
    /// its lookahead's certificate covering the new value and the samples taken since.
    enum EstimateStands { case unchanged, trendCertificate }

    /// Whether a pair made due by data has an estimate whose outcome at every tick up to it is as
    /// it was, and why (nil: it must be evaluated). Each case needs the estimate still ahead, and
    /// `basis` (read now) to hold at least as long as the estimate's did (`stable` no earlier).
    @inline(__always)
    func estimateStands(_ plan: RulePlan, site: Int, pair: Int, key: AlertKey, basis: RuleSchedule.Basis,
                        model: borrowing FlowModel, now: EventTime) -> EstimateStands? {
        guard schedule.estimateAhead(pair, now), let earlier = schedule.basis[pair],
              basis.stable >= earlier.stable else { return nil }
        let onGrid = !schedule.offGrid
        switch plan.kind {
        case .stale:
            // A stale rule measures silence from `stable`, which a message on its feed only moves
            // later. Without an alert (one fires at once) its outcome was quiet up to its estimate
            // and stays so, exact on the grid or off it. Nearly every message made a stale rule
            // due and evaluated (measured 4% of a 1M-line replay).
            return !hasAlert(key) ? .unchanged : nil
        case .threshold where FlowModel.growsWithTime(plan.metric):
            // A wait: the severity it calls for is monotonic in time up to its value's next change
            // by itself, so a message that leaves that severity as it was at `now` and at the
            // estimate's last tick leaves it so at every tick between. On the grid only (the
            // estimate is a tick of it). Every ambulance message made the longest-wait rule due,
            // and most leave the longest wait as it was (4 in 5 kept: 2% of a 1M-line replay).
            guard onGrid, let v = basis.value, let was = earlier.value else { return nil }
            let current = hasAlert(key) ? alerts[key]?.lifecycle.heldSeverity : nil
            let levels = plan.levels[site], direction = plan.direction
            let target = { Self.thresholdTarget(value: $0, direction: direction, levels: levels, current: current) }
            return target(v) == target(was)
                && Self.classedAlike(plan.metric, site: site, model: model, now: now, until: schedule.timeDue[pair],
                                     tick: schedule.tick, as: target(was), target) ? .unchanged : nil
        case .threshold:
            // The value as it was: exact off the grid too (every part of the estimate is an exact
            // instant: a delay's end, the value's next change).
            if basis.value == earlier.value { return .unchanged }
            // Moved: the estimate does not depend on the value (its next change, the alert's
            // delay, the horizon), so with no alert, a value that calls for no severity changes
            // nothing. Most messages move a figure well inside its levels (the ambulance queue:
            // 390,000 evaluations in a 1M-line replay; 2%).
            return !hasAlert(key)
                && basis.value.flatMap({ Self.thresholdTarget(value: $0, direction: plan.direction, levels: plan.levels[site], current: nil) }) == nil
                ? .unchanged : nil
        case .trend:
            // On the grid only: the lookahead steps over the grid's ticks, and a trend's slope
            // moves between them.
            guard onGrid else { return nil }
            if basis.value == earlier.value { return .unchanged }
            // Moved, without an alert: the estimate stands if the lookahead's certificate shows
            // no early warning at any tick up to it with the new value and the values the history
            // sampled since, read back (TrendCertificate). The ambulance queue moves at most
            // ambulance messages, each a fit and a lookahead (8% of a 1M-line replay).
            guard let v = basis.value, !hasAlert(key), let c = plan.trendCache[site].certificate,
                  let sampledSince = model.historyDeviation(plan.metric, site: site, after: c.sample, from: c.sampled),
                  c.holds(for: v, samplesWithin: sampledSince, direction: plan.direction, threshold: plan.threshold, horizon: plan.horizon)
            else { return nil }
            return .trendCertificate
        case .score:
            return nil
        }
    }

    /// When a (threshold, stale or trend) rule at a site is next due, after its evaluation at `now`
    /// (`read`: its metric's value and `stableUntil` then, if read; see
    /// `RuleEngine.evaluate(_:site:model:now:read:)`, also for why `mutating`).
    mutating func nextEvaluation(_ plan: RulePlan, site: Int, model: borrowing FlowModel, now: EventTime,
                                 read: RuleSchedule.Basis?) -> EventTime {
        let key = AlertKey(rule: plan.index, site: site)
        let lifecycle = hasAlert(key) ? alerts[key]?.lifecycle : nil
        var due = FlowModel.never
        if let l = lifecycle, let d = l.nextDeadline(raiseDelay: plan.raise, clearDelay: plan.clear) {
            due = d
        }
        switch plan.kind {
        case .trend:
            return min(due, trendLookahead(plan, site: site, model: model, now: now, read: read).due)
        case .stale:
            guard let from = model.silentSince(plan.feed, site: site) else { return due }
            for limit in [plan.expected, plan.criticalAfter] {
                guard let limit else { continue }
                let passes = model.silenceReaches(limit + Duration(millis: 1), from: from)
                if passes > now { due = min(due, passes) }
            }
            return due
        case .threshold:
            due = min(due, read?.stable ?? model.stableUntil(plan.metric, site: site, from: now))
            let levels = plan.levels[site], direction = plan.direction, current = lifecycle?.heldSeverity
            due = growthChange(plan.metric, site: site, model: model, now: now, before: due) {
                Self.thresholdTarget(value: $0, direction: direction, levels: levels, current: current)
            }
            return min(due, now + RuleSchedule.horizon)
        case .score:
            return now + Duration(millis: 1)
        }
    }

    /// For a metric that grows with time, classed `was` at `now`: whether it is classed so still
    /// at the grid's last tick before `until`, and so at every tick between (`classify` is
    /// monotonic in a growing value). What lets a pair made due by a message keep an estimate
    /// `until` made on the grid: a threshold on a wait (`keepEstimate`), a score's wait
    /// parameter (`readScore`).
    /// (Static, on the grid's `tick`: as a method it took a copy of the engine at each call.)
    @inline(__always)   // inlined with `classify`: no closure context copying the model
    static func classedAlike<C: Equatable>(_ metric: MetricKey, site: Int, model: borrowing FlowModel, now: EventTime, until: EventTime,
                                           tick: Duration, as was: C, _ classify: (Double) -> C) -> Bool {
        let lastTick = (until - Duration(millis: 1)).floored(to: tick)
        return lastTick <= now || model.value(metric, site: site, at: lastTick).map(classify) == was
    }

    /// For a metric that grows with time: the first tick before `end` at which `classify` of its
    /// value changes (monotonic in a growing value, so bisection finds it); `end` otherwise.
    @inline(__always)   // inlined with `classify`: no closure context copying the model
    func growthChange<C: Equatable>(_ metric: MetricKey, site: Int, model: FlowModel, now: EventTime, before end: EventTime,
                                    _ classify: (Double) -> C) -> EventTime {
        guard FlowModel.growsWithTime(metric), let v = model.value(metric, site: site, at: now) else { return end }
        let base = classify(v)
        return schedule.firstTick(after: now, before: end) { t in
            guard let v = model.value(metric, site: site, at: t) else { return true }
            return classify(v) != base
        }
    }

    /// A score rule's sum of points at its `k`-th site at `now`, and the number of parameters
    /// known (summed in parameter order, as `scoreOutcome` sums them). A parameter is read again
    /// only when the data it reads changed (its feeds' change stamps at the site) or its points
    /// may have changed with time (its `until`: the first instant its value changes by itself or
    /// its growth crosses a band); the others keep their points. Most messages move one parameter
    /// of seven (an ambulance message: the longest wait), and a score read all of them.
    ///
    /// The plan's parameters and bands are read through buffers: iterating the parameters, and
    /// a slice of the bands per parameter read, retained and released the arrays every time.
    ///
    /// `changed`: whether any parameter's points or `until` are not what they were (a parameter
    /// read for the first time counts as changed): if none, the score and the instant it is next
    /// due are as at the last evaluation.
    mutating func readScore(_ plan: RulePlan, k: Int, site: Int, model: borrowing FlowModel, now: EventTime)
        -> (score: Double, known: Int, changed: Bool) {
        let count = plan.scoreParameters.count
        var score = 0.0, known = 0, changed = false
        plan.scoreParameters.withUnsafeBufferPointer { parameters in plan.scoreBands.withUnsafeBufferPointer { bands in
        for i in 0..<count {
            let p = parameters[i]
            let stamps = model.dataStamps(p.metric, site: site)
            var reading = plan.scoreReadings[k * count + i]
            // Off the grid a growing parameter is read again: its `until` is a tick of the grid,
            // and the value can cross a band between ticks (the others' `until` is exact).
            if stamps == nil || reading.stamps == nil || reading.stamps! != stamps! || now >= reading.until
                || (schedule.offGrid && FlowModel.growsWithTime(p.metric)) {
                let read = reads.basis(p.metric, site: site, model: model, now: now)
                let points = read.value.map {
                    ScoreRule.Parameter.points(for: $0, direction: p.direction, bands: bands[p.bands])
                }
                let stable = read.stable
                // A growing parameter whose data changed keeps its `until` on the grid when its
                // points are as they were now and at the last tick before it, and its value grows
                // at least that long (its points are monotonic in between), as a threshold on it
                // does (`RuleEngine.keepEstimate`): spares the search for its next band.
                var keeps = FlowModel.growsWithTime(p.metric) && !schedule.everyTick && !schedule.offGrid
                    && reading.stamps != nil && now < reading.until && points != nil && points == reading.points
                    && stable >= reading.until
                if keeps {
                    keeps = Self.classedAlike(p.metric, site: site, model: model, now: now, until: reading.until,
                                              tick: schedule.tick, as: points!) {
                        ScoreRule.Parameter.points(for: $0, direction: p.direction, bands: bands[p.bands])
                    }
                }
                if !keeps {
                    let until = growthChange(p.metric, site: site, model: model, now: now, before: stable) {
                        ScoreRule.Parameter.points(for: $0, direction: p.direction, bands: bands[p.bands])
                    }
                    if reading.stamps == nil || points != reading.points || until != reading.until { changed = true }
                    reading.points = points
                    reading.until = until
                }
                reading.stamps = stamps
                plan.scoreReadings[k * count + i] = reading
            }
            if let points = reading.points { score += points; known += 1 }
        }
        } }
        return (score, known, changed)
    }

    /// When a score rule at a site (its `k`-th) is next due, after `readScore` at `now`: the first
    /// instant any of its points can change, or its alert's delay ends. The system's score is due
    /// when a site's changes.
    mutating func nextScoreEvaluation(_ plan: RulePlan, site: Int, k: Int, now: EventTime) -> EventTime {
        var due = FlowModel.never
        let key = AlertKey(rule: plan.index, site: site)
        if hasAlert(key), let l = alerts[key]?.lifecycle,
           let d = l.nextDeadline(raiseDelay: plan.raise, clearDelay: plan.clear) {
            due = d
        }
        guard site < config.units.count else { return due }
        let count = plan.scoreParameters.count
        for i in 0..<count { due = min(due, plan.scoreReadings[k * count + i].until) }
        return min(due, now + RuleSchedule.horizon)
    }
}

extension RuleEngine {
    /// The first tick after `now` at which a trend rule's outcome (unknown, no early warning,
    /// early warning) can change. Until the value's next change, the fit is over the points, less
    /// those leaving the window, plus one at each history sample ahead (the value, as the history
    /// stores it: each sample takes the value, which stays as it is), plus the current value at a
    /// moving time: the slope is computed from running sums at each tick ahead and, where that is
    /// too close to the horizon to call, exactly as `evaluateTrend` computes it (`trendOutcome`).
    /// Looking past the next sample spares the evaluation at every sample of a rule whose value
    /// changes less often (bed figures: hourly) and was most of the trend rules' cost.
    ///
    /// `warns`: whether its call at `now` is an early warning (false where the value is missing or
    /// past the threshold; nil where it made no call): what `trendOutcome` would give there, so a
    /// trend without an alert needs no separate fit (`RuleEngine.evaluatePair`).
    ///
    /// It also leaves, in the rule's cache at the site, a certificate of the ticks it covered
    /// (`TrendCertificate`): how far each stayed from an early warning, and how fast a change of
    /// the current value could close that gap.
    mutating func trendLookahead(_ r: RulePlan, site: Int, model: borrowing FlowModel, now: EventTime,
                                 read: RuleSchedule.Basis?) -> (due: EventTime, warns: Bool?) {
        r.trendCache[site].certificate = nil   // whatever this returns, an older one no longer covers it
        let step = model.history.step
        guard !FlowModel.growsWithTime(r.metric), let sample = model.lastHistorySample, r.horizon.millis < 360_000_000_000 else {
            return (now + Duration(millis: 1), nil)
        }
        let stable = read?.stable ?? model.stableUntil(r.metric, site: site, from: now)
        let end = min(stable, sample + step)
        guard let v = read != nil ? read!.value : model.value(r.metric, site: site, at: now) else { return (end, false) }
        if r.direction.beyond(v, r.threshold) { return (end, false) }    // passed: stays passed
        let cache = r.trendCache[site]
        guard cache.sample == sample else { return (now + Duration(millis: 1), nil) }
        // Past the next sample only where the history samples the metric at the site, while its
        // ring holds a whole window (a sample ahead overwrites no point of it), and for
        // `trendReach` (further, the scan tick by tick costs more than the evaluations it spares:
        // measured 4 to 12 samples ahead alike).
        let samplesAhead = model.keepsHistory(r.metric, site: site) && Int(r.window.millis / step.millis) + 1 < model.history.points
        let lookEnd = samplesAhead ? min(stable, now + RuleSchedule.trendReach) : end
        // The history points are read in place and the samples ahead computed (sample `k` ahead
        // is at `sample + k * step` with value `sampled`): copying the points into a scratch
        // array with the samples appended cost a copy of the window per lookahead. Only the
        // exact fit, where the slope is too close to call, builds that array.
        let history = cache.points
        // The sums of the points up to `now`. When that is every point (as always, on and off
        // the grid: the history samples no later than the clock) they hold until the next
        // sample, and are kept with the points rather than summed at each lookahead (a
        // division per point: 4% of a replay).
        let origin = history.first?.0 ?? sample
        let everyPoint = history.last.map { $0.0 <= now } ?? true
        var sums = everyPoint ? cache.sums : nil
        if sums == nil {
            var a = (n: 0.0, sx: 0.0, sy: 0.0, sxx: 0.0, sxy: 0.0)
            for (t, y) in history where t <= now {
                let x = (t - origin).hoursValue
                a.n += 1; a.sx += x; a.sy += y; a.sxx += x * x; a.sxy += x * y
            }
            sums = a
            if everyPoint { cache.sums = a }
        }
        let tick = schedule.tick
        return history.withUnsafeBufferPointer { points in
            var scan = TrendScan(points: points, origin: origin, sample: sample, step: step, window: r.window, horizon: r.horizon,
                                 threshold: r.threshold, direction: r.direction, value: v, sums: sums!)
            // Where the slope is too close to call on the margin, the exact fit decides.
            func decide(_ at: EventTime) -> TrendScan.Call {
                let call = scan.call(at)
                guard call == .tooClose else { return call }
                let exactPoints = Array(points) + (0..<scan.ahead).map { (scan.time(points.count + $0), scan.sampled) }
                var exact = self
                exact.describing = false
                switch exact.trendOutcome(r, site: site, points: exactPoints, value: v, now: at, step: step) {
                case .unknown: return .unknown
                case .known(let target, _, _): return target == nil ? .quiet : .warning
                }
            }
            let base = decide(now)
            scan.take()
            if base == .warning { scan.certified.valid = false }   // it certifies the absence of one
            var at = now.floored(to: tick) + tick   // the next tick of the grid
            while at < lookEnd {
                if base == .quiet, let through = scan.quietStretch(from: at, tick: tick, before: lookEnd) {
                    at = through + tick
                    continue
                }
                if decide(at) != base { break }
                scan.take()
                at = at + tick
            }
            if scan.certified.valid { cache.certificate = scan.certified }
            return (min(at, lookEnd), base == .warning)
        }
    }
}

/// The value and `stableUntil` of each metric at each site, as read at one instant of one
/// state of the model (its `version`): at a tick, the rules on one metric and the site's score
/// read it in turn (an ambulance message makes the queue's threshold, its trend and the score
/// due together), and a read of a metric with a queue or a window walks it. Only metrics of a
/// feed: the score's own (`opelScore`, `opelLevel`) change within an evaluation
/// (`setScore`) without a change of version.
struct MetricReads {
    private struct Entry {
        var at: EventTime
        var version: UInt64
        var basis: RuleSchedule.Basis
    }
    private var entries: [Entry]
    private static let metrics = MetricKey.allCases.count

    init(sites: Int) {
        let never = EventTime(millis: .min)
        entries = Array(repeating: Entry(at: never, version: 0, basis: .init(value: nil, stable: never)),
                        count: sites * Self.metrics)
    }

    /// `model.value(metric, site:, at: now)` and `model.stableUntil(metric, site:, from: now)`.
    @inline(__always)
    mutating func basis(_ metric: MetricKey, site: Int, model: borrowing FlowModel, now: EventTime) -> RuleSchedule.Basis {
        guard metric.feed != nil else {
            return .init(value: model.value(metric, site: site, at: now), stable: model.stableUntil(metric, site: site, from: now))
        }
        let i = site &* Self.metrics &+ metric.index
        if entries[i].at == now && entries[i].version == model.version { return entries[i].basis }
        let b = RuleSchedule.Basis(value: model.value(metric, site: site, at: now),
                                   stable: model.stableUntil(metric, site: site, from: now))
        entries[i] = Entry(at: now, version: model.version, basis: b)
        return b
    }
}

/// The running fit of a trend rule's lookahead (`RuleEngine.trendLookahead`) as it steps over
/// the ticks ahead: the history's points read in place, the samples ahead (each recording the
/// current value as the history keeps it) joining as their times come, the points further back
/// than the window leaving, and the current value at each tick. The fit is over hours from the
/// first history point (`origin`). Its own type, so that the calls tick by tick (`call`) and
/// the quiet stretches (`quietStretch`) share one state (as variables captured by nested
/// functions it cost the same: 8,139 against 8,130 instructions a message without LTO).
struct TrendScan {
    enum Call: Equatable { case unknown, quiet, warning, tooClose }
    let points: UnsafeBufferPointer<(EventTime, Double)>
    let origin: EventTime
    let sample: EventTime
    let step: Duration
    let window: Duration
    let half: Duration
    let minPoints: Int
    /// The current value, what each sample ahead records (history keeps `Float`), and the
    /// slope toward the threshold an early warning needs, per hour.
    let v: Double
    let sampled: Double
    let need: Double
    let toward: Double
    var n, sx, sy, sxx, sxy: Double
    /// 1 / (n + 1), the fit's point count with the current value: changes only with `n`, and a
    /// division per tick ahead was most of the scan's cost.
    var perCount: Double
    /// Samples ahead taken so far; those still in the fit, and the x of the first and latest.
    var ahead = 0
    var aheadInFit = 0.0, firstAheadX = 0.0, lastAheadX = 0.0
    var nextSample: EventTime
    /// The first point still in the fit, and its time (the window's checks at every tick read it).
    var first = 0
    var firstTime: EventTime
    /// The certificate of the ticks called so far, and what the latest call adds to it (taken
    /// in only once that call is known to be one the estimate covers: `take`).
    var certified: TrendCertificate
    var last: (worst: Double, gc: Double, gs: Double, cxx: Double, scale: Double)? = nil
    var lastCertifiable = true

    /// `points`: the history's, oldest first, the latest sampled at `sample`; `sums`: theirs up
    /// to the lookahead's start (the fit's count and sums of x, y, x^2 and xy, x in hours from
    /// `origin`); the trend rule's window, horizon, threshold and direction.
    init(points: UnsafeBufferPointer<(EventTime, Double)>, origin: EventTime, sample: EventTime, step: Duration,
         window: Duration, horizon: Duration, threshold: Double, direction: Direction, value v: Double,
         sums: (n: Double, sx: Double, sy: Double, sxx: Double, sxy: Double)) {
        self.points = points
        self.origin = origin
        self.sample = sample
        self.step = step
        self.window = window
        half = Duration(millis: window.millis / 2)
        minPoints = max(4, Int(window.millis / step.millis / 2))
        self.v = v
        sampled = Double(Float(v))
        need = abs(threshold - v) * 3_600_000 / Double(horizon.millis)
        toward = direction == .above ? 1.0 : -1.0
        (n, sx, sy, sxx, sxy) = sums
        perCount = 1 / (sums.n + 1)
        nextSample = sample + step
        firstTime = points.isEmpty ? sample + step : points[0].0
        certified = TrendCertificate(value: v, sampled: sampled, need: need, sample: sample)
    }

    /// The time of point `i`: a history point, or a sample ahead.
    @inline(__always)
    func time(_ i: Int) -> EventTime {
        i < points.count ? points[i].0 : sample + Duration(millis: Int64(i - points.count + 1) * step.millis)
    }

    /// The fit's points at tick `at`: the samples taken by then join it, and the points
    /// further back than the window leave it.
    @inline(__always)
    mutating func advance(to at: EventTime) {
        while nextSample <= at {
            let x = (nextSample - origin).hoursValue
            n += 1; sx += x; sy += sampled; sxx += x * x; sxy += x * sampled
            perCount = 1 / (n + 1)
            ahead += 1
            if aheadInFit == 0 { firstAheadX = x }
            aheadInFit += 1; lastAheadX = x
            nextSample = nextSample + step
        }
        let count = points.count + ahead
        while first < count, at - firstTime > window {
            let x = (firstTime - origin).hoursValue, y = first < points.count ? points[first].1 : sampled
            n -= 1; sx -= x; sy -= y; sxx -= x * x; sxy -= x * y
            perCount = 1 / (n + 1)
            first += 1
            firstTime = time(first)
            if first > points.count {
                aheadInFit -= 1
                firstAheadX = (firstTime - origin).hoursValue
            }
        }
    }

    /// The call at tick `at` (after every earlier tick's): unknown (too few points, or too short
    /// a span), quiet, an early warning, or too close to call on the margin.
    mutating func call(_ at: EventTime) -> Call {
        last = nil
        lastCertifiable = true
        advance(to: at)
        guard fits(at) else { return .unknown }
        let x = (at - origin).hoursValue
        let (mx, cxx, along) = fit(x)
        if cxx > 1e-9 {
            let margin = Self.margin(cxx: cxx, along: abs(along), need: need)
            // Clearly past `need` either way (a warning needs toward > need >= 0; a flat fit,
            // as the samples ahead make it, stays short of it); `along < -margin` implies
            // `past < -margin`.
            let past = along - need * cxx
            if along < -margin || past < -margin {
                // How `cxy` moves with the current value (x - mx) and with the values the
                // samples ahead record (the sum of their |x_j - mx|, bounded by their count
                // times the farthest of the first and the latest from mx).
                let ga = aheadInFit * max(abs(firstAheadX - mx), abs(lastAheadX - mx))
                last = (past + margin, abs(x - mx), ga, cxx, abs(along) + need * cxx)
                return .quiet
            }
            if past > margin { lastCertifiable = false; return .warning }
        }
        lastCertifiable = false   // too close to call here: the exact fit decides
        return .tooClose
    }

    /// Whether the fit has enough points, over a long enough span, to call tick `at` (its points
    /// as `advance(to: at)` left them): else the call is unknown.
    @inline(__always)
    func fits(_ at: EventTime) -> Bool {
        first < points.count + ahead && Int(n) + 1 >= minPoints && at - firstTime >= half
    }

    /// The fit with the current point at `x`: its mean x, `cxx`, and `cxy` toward the threshold
    /// (`along`; the slope toward it is `along / cxx`, compared as `along` against `cxx` times
    /// each bound, which spares a division per tick). One formula for the calls tick by tick and
    /// for the quiet stretches, which must bound exactly what the calls compute.
    @inline(__always)
    func fit(_ x: Double) -> (mx: Double, cxx: Double, along: Double) {
        let mx = (sx + x) * perCount, my = (sy + v) * perCount
        return (mx, sxx + x * x - (n + 1) * mx * mx, toward * (sxy + x * v - (n + 1) * mx * my))
    }

    /// How close to `need` a call is too close to make on the running sums.
    @inline(__always)
    static func margin(cxx: Double, along absAlong: Double, need: Double) -> Double {
        1e-7 * (need * cxx + absAlong) + 1e-9 * cxx
    }

    /// Takes the latest call into the certificate: the estimate covers its tick.
    @inline(__always)
    mutating func take() {
        if !lastCertifiable { certified.valid = false }
        if let l = last { certified.add(worst: l.worst, gc: l.gc, gs: l.gs, cxx: l.cxx, scale: l.scale) }
    }

    /// Ticks `at`, `at + tick`, ... up to the last before the fit's points next change (a sample
    /// taken, a point leaving the window) and before `end`: the last of them, if there are at
    /// least two and every one is called quiet on the margin, with their certificate taken;
    /// nil otherwise (nothing taken: the ticks are then called one by one).
    ///
    /// Over such a stretch only the current point's `x` moves: `cxy` is linear in it and `cxx` a
    /// convex quadratic (its `x^2` coefficient is `n / (n + 1)`), so `past = along - need cxx`
    /// is concave, greatest at an end or at its vertex, and `|along|`, `cxx`, `|x - mx|` and the
    /// certificate's other terms greatest at an end. The stretch is quiet if the greatest `past`
    /// plus the greatest margin, plus a bound on the rounding of the tick-by-tick sums
    /// (`slack`), is below zero, and `cxx` stays clear of the exact fit's threshold throughout.
    /// Most ticks ahead lie in such stretches (a sample every 5 minutes, and a point leaving
    /// the window a tick later).
    mutating func quietStretch(from at: EventTime, tick: Duration, before end: EventTime) -> EventTime? {
        advance(to: at)
        guard fits(at) else { return nil }
        let stop = min(min(end, nextSample) - Duration(millis: 1), firstTime + window)
        guard stop.millis - at.millis >= tick.millis else { return nil }
        let lastTick = at + Duration(millis: (stop.millis - at.millis) / tick.millis * tick.millis)
        let x0 = (at - origin).hoursValue, x1 = (lastTick - origin).hoursValue
        let p = perCount, my = (sy + v) * p
        let a = fit(x0), b = fit(x1)
        // The least `cxx`, at its vertex (the mean x of the other points, `sx / n`) where inside;
        // at `x0` when the vertex is not after it, as always here: the current point is at or
        // after every other (the fit at `x0` is `a`, so no second fit nor division).
        let q = 1 - p
        let leastCxx = n * x0 >= sx ? a.cxx : fit(min(max(sx * p / q, x0), x1)).cxx
        let xm = max(abs(x0), abs(x1))
        let slack = 1e-9 * (abs(sxy) + xm * abs(v) + abs(sx + xm) * abs(sy + v) * p
                            + (need + 1) * (abs(sxx) + xm * xm + (sx + xm) * (sx + xm) * p)) + 1e-12
        guard leastCxx > 1e-9 + slack else { return nil }
        // The greatest `past`, at its vertex where inside.
        var greatestPast = max(a.along - need * a.cxx, b.along - need * b.cxx)
        if need > 0 {
            let xp = (toward * (v - my) / (2 * need) + sx * p) / q
            if xp > x0, xp < x1 { let c = fit(xp); greatestPast = max(greatestPast, c.along - need * c.cxx) }
        }
        let greatestCxx = max(a.cxx, b.cxx), greatestAlong = max(abs(a.along), abs(b.along))
        let worst = greatestPast + Self.margin(cxx: greatestCxx, along: greatestAlong, need: need) + slack
        guard worst < 0 else { return nil }
        let gap = max(abs(firstAheadX - a.mx), abs(lastAheadX - a.mx), abs(firstAheadX - b.mx), abs(lastAheadX - b.mx))
        certified.add(worst: worst, gc: max(abs(x0 - a.mx), abs(x1 - b.mx)), gs: aheadInFit * gap, cxx: greatestCxx,
                      scale: max(abs(a.along) + need * a.cxx, abs(b.along) + need * b.cxx))
        return lastTick
    }
}

/// What a trend rule's lookahead found at the ticks it covered (from its evaluation at `now` to
/// the estimate it returned, the current value `value` throughout, and so each sample ahead
/// recording `sampled`): at each, how far the fit stayed from an early warning (`past + margin`
/// of `trendLookahead`'s call, negative), and how fast other values move it there. `cxy` is
/// linear in the current value, with coefficient `x - mx`, and in each value a sample ahead
/// records, with coefficient `x_j - mx`; `cxx` does not depend on the values, nor does whether
/// the fit has enough points; `need` moves with the distance to the threshold. So if the
/// current value is `v` and every sample ahead recorded within `ds` of `sampled`, each tick's
/// `past + margin` is at most `worst + gc |v - value| + gs ds + max(0, -dneed) cxx`, plus the
/// margin's own growth.
///
/// `holds(for:samplesWithin:)` is what lets a trend rule without an alert, made due by a new
/// value on the grid, keep its estimate: no early warning at any tick up to it. The samples
/// taken since `sample` are read back from the history (`FlowModel.historyDeviation`).
struct TrendCertificate {
    let value: Double
    let sampled: Double
    let need: Double
    /// The latest history sample when it was made (the samples after it are those ahead).
    let sample: EventTime
    /// Whether every covered tick was called on the margin (not by the exact fit) and quiet or
    /// unknown (unknown does not depend on the value): else it certifies nothing.
    var valid = true
    /// The greatest `past + margin`, and the greatest `|x - mx|`, `|sum of x_j - mx|`, `cxx` and
    /// scale of the terms (`|along| + need cxx`) over the covered ticks called on the margin.
    var worst = -Double.infinity
    var gc = 0.0, gs = 0.0, cxx = 0.0, scale = 0.0

    init(value: Double, sampled: Double, need: Double, sample: EventTime) {
        self.value = value
        self.sampled = sampled
        self.need = need
        self.sample = sample
    }

    mutating func add(worst w: Double, gc g: Double, gs h: Double, cxx c: Double, scale sc: Double) {
        worst = max(worst, w); gc = max(gc, g); gs = max(gs, h); cxx = max(cxx, c); scale = max(scale, sc)
    }

    /// Whether, with the current value `v` instead, and the samples ahead recording values within
    /// `recorded` of `sampled` (and `v` from now on), no covered tick calls for an early warning.
    /// (The rule's direction, threshold and horizon: those the lookahead was for.)
    func holds(for v: Double, samplesWithin recorded: Double, direction: Direction, threshold: Double, horizon: Duration) -> Bool {
        guard valid else { return false }
        if direction.beyond(v, threshold) { return true }   // passed: no early warning
        guard worst > -Double.infinity else { return true }      // every tick unknown, whatever v
        let dv = abs(v - value), ds = max(recorded, abs(Double(Float(v)) - sampled))
        let dNeed = abs(threshold - v) * 3_600_000 / Double(horizon.millis) - need
        let shift = gc * dv + gs * ds + max(0, -dNeed) * cxx
        let marginGrowth = 1e-7 * (abs(dNeed) * cxx + gc * dv + gs * ds)
        // The rounding of this form against the call's running sums: far below this.
        let slack = 1e-6 + 1e-8 * (scale + cxx + shift)
        return worst + shift + marginGrowth + slack < 0
    }
}
