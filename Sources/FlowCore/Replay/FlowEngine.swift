import DequeModule

/// The core pipeline in one place: decode and validate -> model -> rules -> alert transitions.
///
/// Driven only by what it is given: lines, and (live) the wall-clock instant they arrived.
/// In replay the clock is the event time of the messages themselves, so the same lines give the
/// same transitions at any speed.
public final class FlowEngine {
    public enum Mode: Sendable, Equatable {
        /// The clock is the latest accepted event time.
        case replay
        /// The clock is the wall-clock time passed to `advance(to:)` and `ingest(_:receivedAt:)`.
        case live
    }

    /// Indirect: the rejection and operator-action payloads are boxed (both rare), so an accepted
    /// outcome is a word, not a 105-byte value copied and destroyed through its type metadata at
    /// every line.
    public indirect enum Outcome: Sendable, Equatable {
        /// Accepted and applied. (No caller read the message back, and carrying it copied
        /// 185 bytes twice more per line.)
        case accepted
        case rejected(Rejection)
        /// A `"feed":"operator"` line (OperatorActions.swift): applied and counted, not feed data.
        case operatorAction(OperatorAction, applied: Bool)
        /// Replay: the line jumped ahead of the latest event and waits for the lines after it
        /// to say whether the clock really moved (`held`); its verdict comes later, from
        /// `takeHeldVerdict()`.
        case held
    }

    public struct Counter: Sendable, Equatable {
        public var accepted = 0
        public var rejected = 0
        public var byReason: [RejectionReason: Int] = [:]
    }

    public let config: SystemConfig
    public let mode: Mode
    public private(set) var model: FlowModel
    public private(set) var rules: RuleEngine
    private var decoder: FeedDecoder
    private var dedup: [Deduplicator]
    /// Where each feed's de-duplication table is, for the decoder to prefetch a line's slot.
    private var dedupLookahead = DedupLookahead()
    /// Next tick at which rules are evaluated.
    private var nextTick: EventTime?
    private var pending: [AlertTransition] = []
    /// Counts per feed (nil: feed unknown) and site code (nil: site unknown).
    /// Accepted and rejected lines per feed and site (the rejections with their reasons).
    public var counters: [CounterKey: Counter] {
        var all = rejections
        for f in FeedKind.allCases {
            for (site, unit) in config.units.enumerated() {
                let n = acceptedBySite[f.index * config.units.count + site]
                if n > 0 { all[CounterKey(feed: f, site: unit.code), default: Counter()].accepted = n }
            }
        }
        return all
    }
    /// Accepted lines by feed and site index (the per-message path counts into an array).
    private var acceptedBySite: [Int]
    private var rejections: [CounterKey: Counter] = [:]
    public private(set) var acceptedTotal = 0
    public private(set) var rejectedTotal = 0
    /// Latest accepted event time (the replay clock).
    public private(set) var highWater: EventTime?
    /// The event time of the message accepted last (live: whether a group of lines is current
    /// or a backlog, `EngineConsumer.batchWillCommit`).
    public private(set) var lastAcceptedAt: EventTime?
    private var silences: [Silence] = []
    /// Live: a duplicate is refused without being counted (`EngineConsumer`: a file resumed
    /// behind the journal after an unclean stop reads lines the journal already holds).
    public var quietDuplicates = false
    /// The silences in force that the latest `silence` replaced or ended.
    public private(set) var lastSilenceReplaced: [Silence] = []
    /// Operator actions applied (acknowledgements, clock marks); see OperatorActions.swift.
    public internal(set) var operatorActions = 0
    /// `recover(_:)` is running: no wall-clock future check.
    var recovering = false
    /// A clock mark was applied: ticks come from the marks, not from the messages' event times.
    var clockMarked = false
    /// Replay: a message more than `jumpMargin` ahead of the latest event, not yet applied. One
    /// mistyped time (13:00 for 08:00) moved the replay's clock: the rule ticks ran up to it,
    /// feeds were called stale and waits grew, and hours of real lines after it were applied
    /// behind a clock they could not move. It is applied when a line at or near its time comes
    /// (or any line of another feed does: a real jump, after an outage), and refused when the
    /// next line of its own feed lies back before it. At the end of the input it is applied.
    private var held: FeedMessage?
    /// `held != nil`, asked on every line: the test on the optional copied the message (an
    /// outlined copy and destroy) at every line, about 200 instructions.
    private var holding = false
    /// The held line's verdict, once given (`takeHeldVerdict()`).
    private var heldVerdict: Outcome?
    /// How far ahead of the latest event a replayed line may be before it is held: the live
    /// limit on a line ahead of the wall clock.
    var jumpMargin: Duration { config.ingest.maxFutureSkewLive }

    public struct CounterKey: Hashable, Sendable {
        public var feed: FeedKind?
        public var site: String?
    }

    /// `historyForRulesOnly`: keep history only for what trend rules fit (nothing draws it).
    /// `evaluateEveryTick`: no tick is skipped and every rule is evaluated at every tick: the
    /// reference the schedule is checked against (slow; for tests).
    public init(config: SystemConfig, mode: Mode = .replay, keepSitrep: Bool = false, historyForRulesOnly: Bool = false,
                evaluateEveryTick: Bool = false) {
        self.config = config
        self.mode = mode
        self.model = FlowModel(config: config)
        self.model.keepCompletedDays = keepSitrep
        if historyForRulesOnly { self.model.historyForRulesOnly() }
        self.rules = RuleEngine(config: config)
        self.rules.schedule.everyTick = evaluateEveryTick
        self.decoder = FeedDecoder(units: config.units)
        self.acceptedBySite = Array(repeating: 0, count: FeedKind.allCases.count * config.units.count)
        self.dedup = FeedKind.allCases.map { _ in Deduplicator(window: config.ingest.dedupWindow, capacity: config.ingest.dedupCapacity) }
    }

    /// Samples history of every metric only from `t` on (before it, only what trend rules fit):
    /// recovery from a long journal, where only the last day of history is ever drawn.
    public func historyForRulesOnly(until t: EventTime) { model.historyForRulesOnly(until: t) }

    /// The event clock now.
    public var now: EventTime? { model.now }

    // MARK: - Ingest

    public func ingest(_ line: String, receivedAt: EventTime? = nil) -> Outcome {
        var s = line
        return s.withUTF8 { ingest($0, receivedAt: receivedAt) }
    }

    /// Decodes, validates and applies one line. Never throws: a bad line is counted and
    /// described, and nothing already accepted is affected.
    public func ingest(_ bytes: UnsafeBufferPointer<UInt8>, receivedAt: EventTime? = nil) -> Outcome {
        var end = bytes.count
        if end > 0, bytes[end - 1] == 13 { end -= 1 }   // tolerate CRLF
        let line = UnsafeBufferPointer(rebasing: bytes[0..<end])
        if let mark = OperatorAction.parseMark(line) { return applyOperator(mark) }   // clock, evaluate
        dedupLookahead.peek(line)
        let m: FeedMessage
        do throws(Rejection) {
            m = try decoder.decodeMessage(line, lookahead: dedupLookahead)
        } catch {
            return undecoded(line, error, receivedAt: receivedAt)
        }
        return decoded(m, receivedAt: receivedAt)
    }

    /// A line decoded: its time against the clock, then `admit`.
    @inline(__always)
    private func decoded(_ m: FeedMessage, receivedAt: EventTime?) -> Outcome {
        // Time against the clock.
        if mode == .live, !recovering, let wall = receivedAt ?? model.now, m.at > wall + config.ingest.maxFutureSkewLive {
            return reject(Rejection(.futureTime, field: "at", "\(RFC3339.format(m.at)) is more than \(config.ingest.maxFutureSkewLive) ahead of the clock (\(RFC3339.format(wall)))",
                                    feed: m.feed, site: config.units[m.site].code))
        }
        if mode == .replay {
            if holding { resolveHeld(by: m.at, feed: m.feed) }
            if let hw = highWater, m.at > hw + jumpMargin {
                // However far ahead: a whole day missing from a recording is a real jump, and
                // refusing every line more than `max_future_skew_replay` ahead refused the rest
                // of the replay (the clock could never move on).
                if !holding {
                    held = m
                    holding = true
                    return .held
                }
                // One line is held at a time; another jump meanwhile is applied, unless it is
                // further ahead than that limit.
                if m.at > hw + config.ingest.maxFutureSkewReplay { return reject(tooFarAhead(m, of: hw)) }
            }
        }
        return admit(m)
    }

    /// The held line's verdict, given since the last call: `.accepted` or `.rejected`; nil while
    /// it is still held, or when no line was held. A headless replay reports a rejection
    /// against the held line's own number.
    public func takeHeldVerdict() -> Outcome? {
        defer { heldVerdict = nil }
        return heldVerdict
    }

    /// A line at `at` on `feed` (nil: an operator line) says whether the held line's jump was
    /// real: one at or after the held time, less `jumpMargin`, does (it is applied first, its
    /// ticks before it); the next line of its own feed back before that does not (refused).
    /// Other feeds' lines behind it leave it held.
    private func resolveHeld(by at: EventTime, feed: FeedKind?) {
        guard let h = held, let real = Self.jumpIsReal(held: (h.at, h.feed), next: (at, feed), margin: jumpMargin) else { return }
        held = nil
        holding = false
        if real {
            heldVerdict = admit(h)
        } else {
            let hw = highWater.map { ", the latest event at \(RFC3339.format($0))" } ?? ""
            heldVerdict = reject(Rejection(.futureTime, field: "at",
                "\(RFC3339.format(h.at)) is ahead of the lines around it (the next \(h.feed.rawValue) line is at \(RFC3339.format(at))\(hw)): a mistyped time?",
                feed: h.feed, site: config.units[h.site].code))
        }
    }

    /// Whether a held line's jump was real, by the next line (`resolveHeld`; the replay player
    /// paces its lines by the same): true, false, or nil for not yet known.
    static func jumpIsReal(held h: (at: EventTime, feed: FeedKind), next: (at: EventTime, feed: FeedKind?), margin: Duration) -> Bool? {
        if next.at >= h.at - margin { return true }
        return next.feed == h.feed ? false : nil
    }

    /// Replay: `m` is more than `max_future_skew_replay` ahead of the latest event `hw`.
    private func tooFarAhead(_ m: FeedMessage, of hw: EventTime, _ more: String = "") -> Rejection {
        Rejection(.futureTime, field: "at", "\(RFC3339.format(m.at)) is more than \(config.ingest.maxFutureSkewReplay) ahead of the latest event (\(RFC3339.format(hw)))" + more,
                  feed: m.feed, site: config.units[m.site].code)
    }

    /// Applies a message that passed the clock checks: lateness, duplicates, the ticks before it
    /// (replay), the model.
    private func admit(_ m: FeedMessage) -> Outcome {
        if let hw = highWater, m.at < hw - config.ingest.maxLateness {
            return reject(Rejection(.tooLate, field: "at", "\(RFC3339.format(m.at)) is more than \(config.ingest.maxLateness) behind the latest event (\(RFC3339.format(hw)))",
                                    feed: m.feed, site: config.units[m.site].code))
        }
        let f = m.feed.index
        if dedup[f].contains(m.idHash) {
            let r = Rejection(.duplicateID, field: "id", "this id was already accepted on the \(m.feed.rawValue) feed",
                              feed: m.feed, site: config.units[m.site].code)
            return quietDuplicates ? .rejected(r) : reject(r)
        }
        // Run the ticks the clock passes before this message (replay: the message moves the clock).
        if mode == .replay || (recovering && !clockMarked) { runTicks(before: m.at) }
        if let r = model.apply(m) { return reject(r) }
        dedup[f].insert(m.idHash, at: m.at)
        if highWater == nil || m.at > highWater! {
            highWater = m.at
            dedup[f].expire(before: m.at - config.ingest.dedupWindow)
        }
        dedupLookahead.set(m.feed, dedup[f].prefetchOldest())
        if nextTick == nil { nextTick = m.at.floored(to: config.tick) + config.tick }
        acceptedTotal += 1
        acceptedBySite[m.feed.index * config.units.count + m.site] += 1
        lastAcceptedAt = m.at
        return .accepted
    }

    /// A line the decoder refused: an operator action (not feed data), or a rejection.
    private func undecoded(_ line: UnsafeBufferPointer<UInt8>, _ r: Rejection, receivedAt: EventTime?) -> Outcome {
        var read = Self.operatorAction(line, undecoded: r)
        if recovering, case .failure(let e) = read, e.reason == .identifiable {
            // The service's own journal: the line was accepted when it was written, under checks
            // a later release made stricter. An operator's action is recovered with its note,
            // reason or `by` withheld (`OperatorAction.withheldText`); a feed line's figures are
            // recovered (the model keeps no text). The restart names it (`recoveredIdentifiable`).
            if case .success(let action)? = OperatorAction.parse(line, withholdingIdentifiableText: true) {
                read = .success(action)
                recoveredIdentifiable = attributed(e, line)
            } else if let m = try? decoder.decodeJournalled(line) {
                let outcome = decoded(m, receivedAt: nil)
                if outcome == .accepted { recoveredIdentifiable = attributed(e, line) }
                return outcome
            }
        }
        switch read {
        case .success(let action):
            if mode == .live, !recovering, let refusal = liveRefusal(action, wall: receivedAt ?? model.now) { return reject(refusal) }
            if holding, mode == .replay, case .acknowledge = action.kind { resolveHeld(by: action.at, feed: nil) }
            if case .acknowledge = action.kind, mode == .replay || (recovering && !clockMarked) { runTicks(before: action.at) }
            return applyOperator(action)
        case .failure(let e):
            return reject(attributed(e, line))
        }
    }

    /// An acknowledgement or silence from a live source, refused where its time is not the
    /// clock's (more than `max_future_skew` either way: the dashboard and `urgentflow ack` date
    /// theirs now) or a silence is longer than 7 days (`urgentflow silence --for` refuses one).
    /// Any producer could send one: an acknowledgement dated a month ahead held for a month
    /// without repeats or escalation, one dated yesterday was taken although it had expired,
    /// and a silence dated Christmas Day replaced the site's silence in force (the operators'
    /// user test). A feed line is held to the clock the same way (`future_time`).
    private func liveRefusal(_ action: OperatorAction, wall: EventTime?) -> Rejection? {
        let what: String
        var until: EventTime? = nil
        switch action.kind {
        case .acknowledge: what = "an acknowledgement"
        case .silence(_, _, let u, _, _): what = "a silence"; until = u
        default: return nil
        }
        if let wall {
            let skew = config.ingest.maxFutureSkewLive
            if action.at > wall + skew {
                return Rejection(.futureTime, field: "at", "\(RFC3339.format(action.at)) is more than \(skew) ahead of the clock (\(RFC3339.format(wall))): \(what) is taken as of now")
            }
            if action.at < wall - skew {
                return Rejection(.tooLate, field: "at", "\(RFC3339.format(action.at)) is more than \(skew) behind the clock (\(RFC3339.format(wall))): \(what) is taken as of now")
            }
        }
        if let until, until - action.at > Self.longestSilence {
            return Rejection(.outOfRange, field: "until", "\(RFC3339.format(until)) is more than \(Self.longestSilence) after the silence's start: a silence lasts at most 7 days (as `urgentflow silence --for`)")
        }
        return nil
    }

    /// The longest silence an operator can give (`urgentflow silence --for`, the dashboard's).
    public static let longestSilence = Duration.hours(7 * 24)

    /// A refusal made before the envelope was read (identifiable data, a repeated field), said
    /// with the line's feed and site where they can be read (`attributed(_:_:_:)`); any other
    /// as it is.
    private func attributed(_ e: Rejection, _ line: UnsafeBufferPointer<UInt8>) -> Rejection {
        e.feed == nil && (e.reason == .identifiable || (e.reason == .malformed && e.field != nil)) ? Self.attributed(e, line, config) : e
    }

    /// Set by `recover` for a journalled line it recovered although the patient-data checks now
    /// refuse it (`FeedDecoder.decodeJournalled`): what they say of it. Nil after any other line.
    public private(set) var recoveredIdentifiable: Rejection?

    /// What `ingest` reads in a line the feed decoder refused with `r`: an operator action, or
    /// why the line is refused (`r` itself unless the line is an operator line the decoder would
    /// otherwise take: `unknown_feed`). Also `OperatorAction.refusal`, the dashboard's check
    /// before it submits an action, so that both refuse the same lines for the same reasons.
    static func operatorAction(_ line: UnsafeBufferPointer<UInt8>, undecoded r: Rejection) -> Result<OperatorAction, Rejection> {
        switch r.reason {
        case .unknownFeed:
            return OperatorAction.parse(line) ?? .failure(r)
        case .identifiable:
            // Refused before the feed was read, as free text: an operator line reads its own
            // fields (its `by` names the member of staff who acted, "Mrs Priya Shah", which
            // the feed decoder took for free text naming a person). That reading decides;
            // where it refuses too, the decoder's refusal stands.
            if case .success(let op)? = OperatorAction.parse(line) { return .success(op) }
            return .failure(r)
        default:
            return .failure(r)
        }
    }

    /// Recovery on start (live mode): ingests a journalled line as replay mode does (the rule
    /// ticks before its event time run first; no wall-clock future check). Once a clock mark
    /// of a live run has been applied, ticks come from the marks instead, exactly as they ran.
    /// A line the patient-data checks refuse is recovered all the same, and said in
    /// `recoveredIdentifiable`: it was accepted when it was written (`FeedDecoder.decodeJournalled`).
    public func recover(_ bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        recovering = true
        recoveredIdentifiable = nil
        defer { recovering = false }
        return ingest(bytes, receivedAt: nil)
    }

    /// A line refused as patient-identifiable is refused as soon as the scanner meets the field,
    /// before the envelope is read; the operators still need to know which provider sent it
    /// (they must raise it with them), so its feed and site are looked for here: the first
    /// `"feed":"..."` naming a feed and `"site":"..."` naming a configured unit. Best effort.
    /// So is a line refused, before its envelope, for giving a contract field twice (the one
    /// `malformed` rejection naming a field): valid JSON that its provider must fix.
    static func attributed(_ r: Rejection, _ line: UnsafeBufferPointer<UInt8>, _ config: SystemConfig) -> Rejection {
        func value(of key: String) -> String? {
            guard let r = JSONText.rawStringField(line, Array("\"\(key)\":\"".utf8)), r.count <= 32 else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: line[r]), as: UTF8.self)
        }
        var out = r
        out.feed = value(of: "feed").flatMap(FeedKind.init(rawValue:))
        out.site = value(of: "site").flatMap { config.unitIndex($0) != nil ? $0 : nil }
        return out
    }

    /// Counts a line that never reached the decoder (e.g. longer than the reader's limit).
    public func rejectUnread(_ r: Rejection) { _ = reject(r) }

    private func reject(_ r: Rejection) -> Outcome {
        rejectedTotal += 1
        var c = rejections[CounterKey(feed: r.feed, site: r.site), default: Counter()]
        c.rejected += 1
        c.byReason[r.reason, default: 0] += 1
        rejections[CounterKey(feed: r.feed, site: r.site)] = c
        return .rejected(r)
    }

    // MARK: - The clock

    /// Runs the rule ticks strictly before `t`. A tick at which no rule is due and the model has
    /// no housekeeping is skipped (RuleSchedule.swift): the transitions are those of evaluating
    /// every tick, at a fraction of the cost over quiet stretches.
    private func runTicks(before t: EventTime) {
        guard var tick = nextTick else { return }
        let step = config.tick.millis
        while tick < t {
            let due = min(rules.schedule.nextDue(version: model.version, stamps: model.changeStamps), model.housekeepingDue)
            if due > tick && !rules.schedule.everyTick {
                // The first tick at or after `due`, unless `t` comes first.
                guard due < t else { tick = Self.ceil(t, step); break }
                tick = max(tick, Self.ceil(due, step))
                continue
            }
            model.advance(to: tick)
            // Appended only when there are some: nearly every evaluated tick has none, and
            // appending an empty array still checked `pending`'s storage for uniqueness.
            let transitions = rules.evaluate(model: &model, now: tick)
            if !transitions.isEmpty { pending += transitions }
            tick = tick + config.tick
        }
        nextTick = tick
    }

    /// The first multiple of `step` milliseconds at or after `t` (ticks are on that grid).
    @inline(__always) static func ceil(_ t: EventTime, _ step: Int64) -> EventTime {
        var r = t.millis % step   // one division (this runs for every line)
        if r < 0 { r += step }
        return r == 0 ? t : EventTime(millis: t.millis - r + step)
    }

    /// Live mode: moves the clock to the wall-clock instant `t` and evaluates due ticks.
    /// Replay: evaluates ticks up to and including `t` (used at the end of a scenario).
    public func advance(to t: EventTime) {
        var t = t
        if holding, let h = held {
            // Not past the held line's time (replay): those ticks wait for its verdict, as they
            // do in a headless replay, which runs them when the next line comes.
            t = min(t, Self.ceil(h.at, config.tick.millis) - config.tick)
            if let now = model.now, t < now { return }
        }
        if nextTick == nil { nextTick = t.floored(to: config.tick) + config.tick; model.advance(to: t); return }
        runTicks(before: t + Duration(millis: 1))
        model.advance(to: t)
    }

    /// Live mode, after a group of lines: runs the ticks due up to the wall-clock instant `t`,
    /// then evaluates at `t` itself, off the tick grid, the rules reading data that changed since
    /// their last evaluation (RuleSchedule.offGrid; the others, whose outcome moves only with
    /// time, stay on the grid). An alert then follows the line that causes it at once instead of
    /// at the next tick. The live consumer journals an `evaluate` mark (OperatorActions.swift) so
    /// that recovery evaluates at the same instant among the same lines. An instant before the
    /// latest evaluation changes nothing.
    public func evaluate(at t: EventTime) {
        if let last = rules.schedule.lastTick, t < last { return }
        advance(to: t)
        pending += rules.evaluate(model: &model, now: t, offGrid: true)
    }

    /// Live mode: the input was held from `from` to `until` (the journal could not write): a
    /// feed's silence does not count that time (`FlowModel.inputHolds`). The live consumer
    /// journals the `held` mark that recovery applies the same way.
    public func inputHeld(from: EventTime, until: EventTime) {
        model.inputHeld(from: from, until: until)
    }

    /// Ends a replay: runs the final tick after the last event, and closes the days for the sitrep.
    public func finish() {
        if holding, let h = held {
            // Nothing after it said: applied, unless it is further ahead than
            // `max_future_skew_replay` (a mistyped day or year as the last line).
            held = nil
            holding = false
            if let hw = highWater, h.at > hw + config.ingest.maxFutureSkewReplay {
                heldVerdict = reject(tooFarAhead(h, of: hw, ", and no line after it came near it"))
            } else {
                heldVerdict = admit(h)
            }
        }
        if let hw = highWater { advance(to: hw.floored(to: config.tick) + config.tick) }
        model.finishDays()
    }

    /// Transitions produced since the last call, in order.
    public func drainTransitions() -> [AlertTransition] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    public var hasPendingTransitions: Bool { !pending.isEmpty }

    public func drainCompletedDays() -> [(site: Int, ledger: DayLedger)] { model.drainCompletedDays() }

    // MARK: - Operators

    /// Adds a silence; one whose `until` is not after `from` ends the matching silences early.
    /// The silences in force it replaced or ended are `lastSilenceReplaced`, for the one giving
    /// it to be told (a site's silence over a colleague's, cut short without a word).
    public func silence(_ s: Silence) {
        let replaces = { (x: Silence) in x.site == s.site && (x.rule == s.rule || s.rule == nil) }
        lastSilenceReplaced = silences.filter { replaces($0) && $0.until > s.from }
        silences.removeAll(where: replaces)
        if s.until > s.from { silences.append(s) }
        if silences.count > 1000 { silences.removeFirst(silences.count - 1000) }
    }

    /// What the one giving `s` should know of the silences in force it replaced or ended
    /// (`lastSilenceReplaced`): "replaced Priya Shah's silence of every alert at RWH until Tue
    /// 25 Nov 2026 18:00 GMT (diverting to Watford)"; nil when it replaced none.
    public func replacedSilenceNote(for s: Silence) -> String? {
        guard !lastSilenceReplaced.isEmpty else {
            // A rule's silence under a site's in force: that one still holds it, said. Ending
            // the rule's said "no silence ... was in force" of an alert a colleague's site
            // silence kept silenced for two hours more (user test).
            guard let rule = s.rule, let site = silences.first(where: { $0.site == s.site && $0.rule == nil && $0.until > s.from }) else { return nil }
            let by = "silenced by \(site.by)'s silence of every alert at \(s.site) until "
                + "\(FlowEngine.localClock(site.until, model.calendar)) (\(site.reason))"
            return s.until > s.from ? "is also " + by : "nothing ended: \(rule) at \(s.site) is still " + by
        }
        let verb = s.until > s.from ? "replaced" : "ended"
        return verb + " " + lastSilenceReplaced.map { x in
            "\(x.by)'s silence of \(x.rule.map { "\($0) at \(x.site)" } ?? "every alert at \(x.site)") until "
                + "\(FlowEngine.localClock(x.until, model.calendar)) (\(x.reason))"
        }.joined(separator: ", and ")
    }

    /// Silences in force at `t`: given, and not yet over (expired ones are dropped). A silence
    /// applies from when it is given, even if the event clock has not reached that instant yet.
    public func activeSilences(at t: EventTime) -> [Silence] {
        silences.removeAll { $0.until <= t }
        return silences
    }

    /// The acknowledgement in force that the last one applied replaced (`replacedAckNote`).
    public private(set) var lastAckReplaced: RuleEngine.Acknowledgement?

    /// Acknowledges an active alert until `expires` (else `at` + the configured
    /// `acknowledgement_expiry`) or until it gets worse, as the notification policy does.
    @discardableResult
    public func acknowledge(rule: String, site: String, by: String, note: String?, at: EventTime,
                            expires: EventTime? = nil) -> Bool {
        let before = rules.acknowledgement(rule: rule, site: site, at: at)
        let applied = rules.acknowledge(rule: rule, site: site, by: by, note: note, at: at, expires: expires)
        lastAckReplaced = applied ? before : nil
        return applied
    }

    /// What the one acknowledging should know of the acknowledgement in force theirs replaced:
    /// "replaced Gus Ives's acknowledgement of opel at NDA given Wed 25 Nov 2026 03:40 GMT (on
    /// it)"; nil when there was none. A second acknowledgement replaced the first without a
    /// word (ops user test).
    public func replacedAckNote(rule: String, site: String) -> String? {
        guard let a = lastAckReplaced else { return nil }
        return "replaced \(a.by)'s acknowledgement of \(rule) at \(site) given \(FlowEngine.localClock(a.at, model.calendar))"
            + (a.note.map { $0.isEmpty ? "" : " (\($0))" } ?? "")
    }

    /// The active alert of `rule` at `site` as the dashboard shows it now: its value and sentence
    /// described at the latest tick (`RuleEngine.activeAlert`); nil when it is not active. What a
    /// notification made at this instant says of it (`NotificationPolicy.CurrentAlert`).
    public func activeAlert(rule: String, site: String) -> AlertSnapshot? {
        rules.activeAlert(rule: rule, site: site, model: model)
    }

    /// The same, described at `at` (a replay's policy tick on the grid, before the clock the
    /// line that moved it brought: a growing wait as it was then).
    public func activeAlert(rule: String, site: String, at: EventTime) -> AlertSnapshot? {
        rules.activeAlert(rule: rule, site: site, model: model, at: at)
    }

    /// Why an acknowledgement of `rule` at `site` was refused, for a person: the alert is pending
    /// (nothing to acknowledge until it fires), or there is none (`justCleared`: the dashboard's
    /// own, of an alert it showed: say it may have cleared since). Typed by hand (`urgentflow
    /// ack`, from a phone in the small hours), a unit or rule the system does not have is said
    /// to be so, and otherwise the alerts firing at the site are listed: what was meant is
    /// usually among them, where "no active alert" alone sent the manager to the dashboard.
    public func ackRefusal(rule: String, site: String, justCleared: Bool = false) -> String {
        if rules.isPending(rule: rule, site: site) {
            return Self.pendingAckRefusal(rule: rule, site: site) + " (its lead has not been told)"
        }
        let refusal = "no active alert \(rule) at \(site)"
        if justCleared { return refusal + " (it may have just cleared)" }
        if let notAUnit = notAUnit(site) { return refusal + ": " + notAUnit }
        let firing = rules.firingRules(at: site)
        let there = firing.isEmpty ? "no alert is firing at \(site)" : "firing at \(site): " + firing.joined(separator: ", ")
        guard config.rules.contains(where: { $0.id == rule }) else {
            return refusal + ": \(rule) is not a rule of this system; " + there
        }
        return refusal + "; " + there
    }

    /// Why an acknowledgement at `site` names no alert the system could have, as a silence's
    /// refusal says it (`unknown_alert`): the unit is not one of the system's (`RWX is not a
    /// unit of this system (RWH, ...)`); nil when it is. It was answered `no_active_alert`,
    /// where a silence of the same said `unknown_alert` (ops user test). A rule the system
    /// does not have stays `no_active_alert`, saying so and what is firing there.
    public func ackUnknown(site: String) -> String? { notAUnit(site) }

    /// Why a silence of `rule` (nil: every alert) at `site` is refused, for a person; nil when it
    /// is not: the unit, the rule, or the rule not evaluated at the unit (`stack_waiting` at an
    /// acute site was taken, and silenced nothing). It said "no unit RWH or no rule
    /// handover_longest", and listed nothing (the operators' user test).
    public func silenceRefusal(site: String, rule: String?) -> String? {
        if let notAUnit = notAUnit(site) { return notAUnit }
        guard let rule else { return nil }
        guard let covered = rules.sitesCovered(by: rule) else {
            return "\(rule) is not a rule of this system"
        }
        guard covered.contains(site) else {
            return "\(rule) is not evaluated at \(site) (only at \(covered.joined(separator: ", ")))"
        }
        return nil
    }

    /// `RWX is not a unit of this system (RWH, RWG, ...)`, of a code that is not one of the
    /// system's units nor SYSTEM; nil for one that is.
    func notAUnit(_ site: String) -> String? {
        guard site != systemSiteCode, config.unitIndex(site) == nil else { return nil }
        return "\(site) is not a unit of this system (" + (config.units.map(\.code) + [systemSiteCode]).joined(separator: ", ") + ")"
    }

    /// Why an alert still pending cannot be acknowledged; the dashboard says it too, before
    /// asking (`DashboardController`).
    public static func pendingAckRefusal(rule: String, site: String) -> String {
        "\(rule) at \(site) is pending: nothing to acknowledge until it fires"
    }

    /// Rejected-line counts by feed, site and reason: what a live service carries across a
    /// restart (rejected lines are not journalled, so recovery cannot count them again).
    public var rejectionCounts: [RejectionCount] {
        var out: [RejectionCount] = []
        for (key, c) in rejections {
            for (reason, n) in c.byReason where n > 0 {
                out.append(RejectionCount(feed: key.feed?.rawValue, site: key.site, reason: reason.rawValue, count: n))
            }
        }
        return out.sorted { ($0.feed ?? "", $0.site ?? "", $0.reason) < ($1.feed ?? "", $1.site ?? "", $1.reason) }
    }

    /// Adds counts saved by an earlier run (`rejectionCounts`). An unknown reason is kept as
    /// `malformed` so the total stays true.
    public func restoreRejections(_ counts: [RejectionCount]) {
        for c in counts where c.count > 0 {
            let key = CounterKey(feed: c.feed.flatMap(FeedKind.init(rawValue:)), site: c.site)
            var counter = rejections[key, default: Counter()]
            counter.rejected += c.count
            counter.byReason[RejectionReason(rawValue: c.reason) ?? .malformed, default: 0] += c.count
            rejections[key] = counter
            rejectedTotal += c.count
        }
    }

    public func rejectedCount(feed: FeedKind) -> Int {
        rejections.filter { $0.key.feed == feed }.map(\.value.rejected).reduce(0, +)
    }

    public func acceptedCount(feed: FeedKind) -> Int {
        acceptedBySite[(feed.index * config.units.count)..<((feed.index + 1) * config.units.count)].reduce(0, +)
    }
}

/// One rejected-line count (see `FlowEngine.rejectionCounts`).
public struct RejectionCount: Codable, Equatable, Sendable {
    public var feed: String?
    public var site: String?
    public var reason: String
    public var count: Int

    public init(feed: String?, site: String?, reason: String, count: Int) {
        self.feed = feed
        self.site = site
        self.reason = reason
        self.count = count
    }
}

/// The de-duplication tables' probes, one a feed: each line's id is fingerprinted as soon as it
/// is read, and its slot prefetched (at the issue's density the ambulance feed's table is 8 MB,
/// and its look-up missed the cache at nearly every line).
struct DedupLookahead: IDLookahead {
    private var bed = FingerprintSet.Probe.none, dtoc = FingerprintSet.Probe.none
    private var nhs111 = FingerprintSet.Probe.none, ambulance = FingerprintSet.Probe.none
    /// Some feed's table is large enough to be prefetched (`FingerprintSet.probe`): else `peek`
    /// returns at once (its reading of the id was about 100 instructions a line for nothing at
    /// the system's real pace).
    private var active = false
    /// What `peek` found in the line being decoded: the id at `peekedStart..<peekedEnd` of the
    /// `peekedFeed` feed has the fingerprint `peekedPrint` (`peekedEnd` -1: nothing found).
    private var peekedStart = 0, peekedEnd = -1
    private var peekedFeed = FeedKind.bed
    private var peekedPrint: UInt64 = 0

    @inline(__always) private func prefetch(feed: FeedKind, _ idHash: UInt64) {
        switch feed {
        case .bed: bed.prefetch(idHash)
        case .dtoc: dtoc.prefetch(idHash)
        case .nhs111: nhs111.prefetch(idHash)
        case .ambulance: ambulance.prefetch(idHash)
        }
    }

    /// The decoder's call: the fingerprint `peek` made of the same bytes, or made now (and its
    /// slot prefetched) for a line `peek` could not read.
    @inline(__always) func idFingerprint(feed: FeedKind, _ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> UInt64 {
        if e == peekedEnd, s == peekedStart, feed == peekedFeed { return peekedPrint }
        let h = Fingerprint.of(feed: feed, b, s, e)
        prefetch(feed: feed, h)
        return h
    }

    /// The id of a line that opens as the contract's examples and urgentflow's own writers do,
    /// `{"feed":"…","id":"…"`, fingerprinted and its slot prefetched before the line is
    /// scanned: the decoder's own call (after the scan) left too little of the line to cover
    /// the slot's arrival. The decoder takes the fingerprint from here when it finds the same
    /// id at the same place of the same line (it fingerprints an id's bytes as they stand, as
    /// this does: the same bytes, the same fingerprint). Another opening, or an id with an
    /// escape, is left to the decoder.
    @inline(__always) mutating func peek(_ line: UnsafeBufferPointer<UInt8>) {
        peekedEnd = -1
        guard active, line.count > 24, let b = line.baseAddress else { return }
        let feedOpen: UInt64 = 0x2264_6565_6622_7B   // `{"feed"` (7 bytes, little-endian)
        guard UnsafeRawPointer(b).loadUnaligned(as: UInt64.self) & 0x00FF_FFFF_FFFF_FFFF == feedOpen,
              b[7] == UInt8(ascii: ":"), b[8] == UInt8(ascii: "\"") else { return }
        let feed: FeedKind, idOpen: Int
        switch b[9] {
        case UInt8(ascii: "a"): (feed, idOpen) = (.ambulance, 18)
        case UInt8(ascii: "b"): (feed, idOpen) = (.bed, 12)
        case UInt8(ascii: "d"): (feed, idOpen) = (.dtoc, 13)
        case UInt8(ascii: "1"): (feed, idOpen) = (.nhs111, 12)
        default: return
        }
        // `","id":"` (8 bytes) after the feed's name.
        let idField: UInt64 = 0x223A_2264_6922_2C22
        guard idOpen + 8 + 1 < line.count,
              UnsafeRawPointer(b + idOpen).loadUnaligned(as: UInt64.self) == idField else { return }
        // The id's closing quote, eight bytes at a time: the first quote, backslash, control or
        // non-ASCII byte ends the look (an id of plain printable ASCII is what feeds send; any
        // other is left to the decoder). At least eight bytes from `start` lie in the line.
        let start = idOpen + 8
        var end = start
        let limit = min(line.count - 8, start + 128)
        while true {
            guard end <= limit else { return }
            let m = JSONLineScanner.specialBytes(UInt64(littleEndian: UnsafeRawPointer(b + end).loadUnaligned(as: UInt64.self)))
            if m != 0 { end += m.trailingZeroBitCount >> 3; break }
            end += 8
        }
        guard b[end] == UInt8(ascii: "\""), end > start, end - start <= 128 else { return }
        let h = Fingerprint.of(feed: feed, b, start, end)
        prefetch(feed: feed, h)
        (peekedStart, peekedEnd, peekedFeed, peekedPrint) = (start, end, feed, h)
    }

    @inline(__always) mutating func set(_ feed: FeedKind, _ probe: FingerprintSet.Probe) {
        switch feed {
        case .bed: bed = probe
        case .dtoc: dtoc = probe
        case .nhs111: nhs111 = probe
        case .ambulance: ambulance = probe
        }
        active = bed.isActive || dtoc.isActive || nhs111.isActive || ambulance.isActive
    }
}

/// Remembers message ids for de-duplication: bounded by event-time window and by count.
struct Deduplicator: Sendable {
    let window: Duration
    let capacity: Int
    private var ids = FingerprintSet()
    private var order = Deque<(UInt64, EventTime)>()

    init(window: Duration, capacity: Int) {
        self.window = window
        self.capacity = capacity
    }

    func contains(_ h: UInt64) -> Bool { ids.contains(h) }

    /// The slots of the ids to expire next, fetched ahead of their removal (a later line's).
    /// Returns the table's probe (for the decoder's lookahead). `mutating` though it changes
    /// nothing: called in place on the engine's array of de-duplicators, where a non-mutating
    /// call copied the whole de-duplicator, a retain and release of its table and deque a line.
    @inline(__always) mutating func prefetchOldest() -> FingerprintSet.Probe {
        // The first three: the window moves on a second at a time, and at 2 million messages a
        // week a second of the ambulance feed holds two or three ids.
        let probe = ids.probe
        guard probe.isActive else { return probe }
        let n = order.count
        if n > 0 { probe.prefetch(order[0].0) }
        if n > 1 { probe.prefetch(order[1].0) }
        if n > 2 { probe.prefetch(order[2].0) }
        return probe
    }

    mutating func insert(_ h: UInt64, at t: EventTime) {
        if ids.isFull { reserve(at: t) }
        ids.insert(h)
        order.append((h, t))
        while order.count > capacity { ids.remove(order.removeFirst().0) }
    }

    /// The table is full while the window is still filling (the first two days of a replay or a
    /// restart): room for as many ids as the whole window will hold at the rate seen so far,
    /// at most `capacity`, in one step. Doubling instead rehashed every id at every power of
    /// two and had the kernel clear each new table's memory: perf put 6% of a replay of
    /// 1,000,000 lines at issue 6's density there (README, "Measured"). The rate is measured
    /// from an eighth of the window on, so that a first burst does not size the table; before
    /// that, or once the window has filled, the table doubles.
    private mutating func reserve(at t: EventTime) {
        var want = ids.count + 1
        if let first = order.first?.1 {
            let span = (t - first).millis, whole = window.millis
            if span > 0, span >= whole / 8, span < whole {
                want = max(want, Int(min(Int64(capacity), Int64(ids.count) * whole / span)))
            }
        }
        if want > ids.count + 1 {
            ids.reserve(want)
            order.reserveCapacity(want)
        }
    }

    mutating func expire(before t: EventTime) {
        while let first = order.first, first.1 < t {
            ids.remove(first.0)
            order.removeFirst()
        }
    }

    var count: Int { ids.count }
    /// The size of the ids' table, in slots.
    var slotCount: Int { ids.slotCount }
}
