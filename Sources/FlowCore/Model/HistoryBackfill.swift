// MARK: - Back-filling history
//
// History is sampled on the model's clock: live, the wall clock. A feed that comes back after an
// outage sends its backlog (hours of older event times at once), and the samples of those hours
// were taken while its data was missing. Left so, the sparklines and the trend rules saw nothing
// for the period once the feed had caught up ("19 hours sent at once leave them empty").
//
// So a line whose event time lies behind the latest history sample (or of a feed whose previous
// such line left a tail, below) fills, before it is applied, the samples from its feed's
// previous line at that site up to its own time, from the model's data as it is then: for each
// sample instant `s` the value the model gives at `s`, which, the feed's lines at that site being
// applied in time order, is the value of its data as of its latest line at or before `s` (a
// snapshot's latest message, a since-midnight count of the lines up to it, the last hour's
// window of them). A sample more than the feed's age after that line stays missing (stale), as
// it would have been sampled.
//
// - Only missing values are written: a value sampled live is never changed, even if it carried
//   older data forward (a feed silent but still current when the sample was taken keeps what
//   the screen showed then).
// - The tail (the samples from the feed's latest line to the latest sample) is filled at the
//   model's next `advance`, from the data as it is then, and marked provisional: a later line of
//   that feed at or before those samples clears the marked values (its data is newer than theirs)
//   and the next `advance` writes them again. A line of the feed after the latest sample closes
//   the tail exactly, before it is applied.
// - What is filled: the values a single feed at a single unit determines (every metric of the
//   unit's feeds but the DToC share of beds, which also reads the bed feed), and the system's
//   figures taken from one unit (111, the ambulance service's). The system's sums and ratios over
//   the acute sites, the DToC share of beds and the escalation score and level stay missing:
//   their value at an earlier instant needs another feed's data as it was then, which the model
//   no longer holds.
// - Windows cut by housekeeping on the model's clock: a sample whose last hour of clears, or
//   whose ambulance queue, housekeeping has already pruned (a clear more than an hour old, an
//   arrival not handed over in 24 h) stays missing rather than taking a value short of them.
// - Lines of a feed at a site that arrive out of time order fill nothing behind that feed's
//   latest line: history is as the lines were applied.
//
// Bounded: a fill walks at most the ring's samples, each for the values its feed determines at
// the site (about ten), once per line that passes them; the marks of provisional values are one
// bit per ring value, allocated at the first. Deterministic: it depends only on the order of
// lines and `advance` calls, which the journal's clock and evaluate marks record, so recovery
// rebuilds the same history. A replay's lines come after every sample (its clock is their
// time), so only a late line there takes this path.

/// What back-filling keeps (see above): for each (site, feed) slot of `FlowModel.feedSlot`, the
/// history values that slot's data alone determines, and the state of its tail.
struct HistoryBackfill: Sendable {
    /// A history value (`cell`, maybe in the system's row) and the unit whose data it reads.
    struct Target: Sendable {
        let cell: MetricHistoryStore.Cell
        let source: Int
    }
    /// Per slot: the values it determines among those the history keeps, and among the trend
    /// rules' only (`FlowModel.historyForRulesOnly`, for samples before `allHistoryFrom`).
    var targets: [[Target]]
    var ruleTargets: [[Target]]
    /// Per slot: a line came at or before the latest sample, so the samples from the slot's
    /// latest line on are filled at the next `advance`.
    var tailPending: [Bool]
    var anyTailPending = false
    /// Per slot: values at or after its latest line may be marked provisional.
    var provisional: [Bool]

    /// `kept`: the metrics (indices of `allCases`) the history keeps per site, the system last.
    init(config: SystemConfig, kept: [[Int]]) {
        let n = config.units.count, feeds = FeedKind.allCases.count
        var targets = Array(repeating: [Target](), count: n * feeds)
        let acute = config.units.indices.filter { config.units[$0].kind == .acute }
        for (site, metrics) in kept.enumerated() {
            for k in metrics {
                let metric = MetricKey.allCases[k]
                guard let feed = metric.feed, metric.alsoReads == nil else { continue }
                let source: Int
                if site < n {
                    source = site
                } else {
                    // The system's: only a figure taken from one unit.
                    let from = FlowModel.systemSources(metric, config: config, acuteSites: acute)
                    guard from.count == 1 else { continue }
                    source = from[0]
                }
                targets[FlowModel.feedSlot(source, feed)].append(Target(cell: .init(site: site, metric: k), source: source))
            }
        }
        self.targets = targets
        self.ruleTargets = targets
        self.tailPending = Array(repeating: false, count: n * feeds)
        self.provisional = tailPending
    }
}

extension FlowModel {
    /// A line of `feed` at `site` at `t`, at or before `backfillUpTo`, before it is applied: fills
    /// the samples from the slot's latest line up to `t` (exact: that line's data holds for
    /// them), clears the provisional values from `t` on (this line's data is newer), and leaves
    /// the tail for the next `advance`.
    mutating func backfillBefore(site: Int, feed: FeedKind, at t: EventTime) {
        guard let last = historyStore.lastSample else { return }
        let k = Self.feedSlot(site, feed)
        guard t <= last || backfill.tailPending[k] else { return }
        let latest = feedLastSeen[k]
        if let p = latest, p < t {
            fillSamples(slot: k, from: p, through: min(t - Duration(millis: 1), last), provisional: false)
        }
        if backfill.provisional[k] {
            clearProvisional(slot: k, from: max(t, latest ?? t), through: last)
            backfill.provisional[k] = false
        }
        backfill.tailPending[k] = t <= last
        if t <= last {
            backfill.anyTailPending = true
            backfillUpTo = EventTime(millis: .max)   // every line, until the tails are filled
        }
    }

    /// At `advance`: fills each pending tail, the samples from its slot's latest line to the
    /// latest sample, provisionally.
    mutating func fillTails() {
        for k in backfill.tailPending.indices where backfill.tailPending[k] {
            backfill.tailPending[k] = false
            guard let p = feedLastSeen[k], let last = historyStore.lastSample, p <= last else { continue }
            if fillSamples(slot: k, from: p, through: last, provisional: true) { backfill.provisional[k] = true }
        }
        backfill.anyTailPending = false
        backfillUpTo = historyStore.lastSample ?? EventTime(millis: .min)
    }

    /// Writes, into the samples from `from` through `through` (those the ring holds), each
    /// missing or provisional value that slot `k` determines, from the model's data now; returns
    /// whether it marked any provisional.
    @discardableResult
    private mutating func fillSamples(slot k: Int, from: EventTime, through: EventTime, provisional mark: Bool) -> Bool {
        guard let last = historyStore.lastSample else { return false }
        let step = historyStore.spec.step
        let end = min(through, last)
        let floor = from.floored(to: step)
        var s = max(floor == from ? from : floor + step, last - step * Int64(historyStore.spec.points - 1))
        var marked = false
        while s <= end {
            if let slot = historyStore.slot(of: s) {
                let targets = s >= allHistoryFrom ? backfill.targets[k] : backfill.ruleTargets[k]
                for target in targets where historyStore.writable(slot: slot, index: target.cell.index) {
                    let v = backfillValue(target, at: s)
                    if v.isNaN && !historyStore.isProvisional(slot: slot, index: target.cell.index) { continue }   // missing stays missing
                    if historyStore.fill(s, slot: slot, index: target.cell.index, value: v, provisional: mark) { historyRevision &+= 1 }
                    if mark && !v.isNaN { marked = true }
                }
            }
            s = s + step
        }
        return marked
    }

    /// Clears (to missing) the provisional values of slot `k` from `from` through `through`.
    private mutating func clearProvisional(slot k: Int, from: EventTime, through: EventTime) {
        let step = historyStore.spec.step
        let floor = from.floored(to: step)
        var s = floor == from ? from : floor + step
        guard let last = historyStore.lastSample else { return }
        s = max(s, last - step * Int64(historyStore.spec.points - 1))
        while s <= min(through, last) {
            if let slot = historyStore.slot(of: s) {
                let targets = s >= allHistoryFrom ? backfill.targets[k] : backfill.ruleTargets[k]
                for target in targets where historyStore.isProvisional(slot: slot, index: target.cell.index) {
                    if historyStore.fill(s, slot: slot, index: target.cell.index, value: .nan, provisional: false) { historyRevision &+= 1 }
                }
            }
            s = s + step
        }
    }

    /// The value a back-fill writes for `target` at the sample instant `s` (missing: NaN).
    private func backfillValue(_ target: HistoryBackfill.Target, at s: EventTime) -> Float {
        let source = sites[target.source]
        switch target.cell.metric {
        case .ambulanceQueue, .ambulanceLongestWaitMin:
            // At `s` the queue held the arrivals of the 24 h before it: none may have been dropped
            // since, nor any older be held still.
            if let a = source.latestPurgedArrival, a >= s - Self.queueLimit { return .nan }
            if let o = source.queue.oldest, o < s - Self.queueLimit { return .nan }
        case .handoverToClearMin:
            if let c = source.latestPrunedClear, c > s - .hours(1) { return .nan }
        default:
            break
        }
        return value(target.cell.metric, site: target.cell.site, at: s).map(Float.init) ?? .nan
    }
}
