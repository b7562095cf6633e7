import FlowCore
import FlowIngest
import FlowNotify
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - The engine behind the hub

/// Where the consumer thread publishes dashboard snapshots for the UI thread.
public final class SnapshotSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var snap: DashboardSnapshot
    private var v = 0
    public init(_ s: DashboardSnapshot) { snap = s }
    public func publish(_ s: DashboardSnapshot) { lock.lock(); snap = s; v += 1; lock.unlock() }
    public func read() -> (DashboardSnapshot, Int) { lock.lock(); defer { lock.unlock() }; return (snap, v) }
}

/// Results of operator actions (acknowledgements, silences) submitted by the dashboard, handed
/// back once durable, or once refused: applied (`Acknowledged ...`) or not, with why (`Not
/// acknowledged: ...`). The dashboard waits a moment for one (`wait`); one that comes later is
/// picked up at its next tick (`take`), so a refusal never stays "queued".
public final class AckResults: @unchecked Sendable {
    private let cond = NSCondition()
    private var results: [String: String] = [:]

    public func resolve(_ id: String, _ message: String) {
        cond.lock(); results[id] = message; cond.broadcast(); cond.unlock()
    }

    /// Waits at most `timeout` seconds for the result of `id`.
    public func wait(_ id: String, timeout: Double) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        cond.lock()
        defer { cond.unlock() }
        while results[id] == nil {
            if !cond.wait(until: deadline) { break }
        }
        return results.removeValue(forKey: id)
    }

    /// The result of `id` if it has come, without waiting.
    public func take(_ id: String) -> String? {
        cond.lock(); defer { cond.unlock() }
        return results.removeValue(forKey: id)
    }
}

/// The single-owner engine adapted to the hub: every method runs on the hub's consumer thread.
///
/// - Lines: `engine.ingest(line, receivedAt: wall clock)`; accepted messages and applied
///   operator actions are `.accepted` (journalled), everything else `.rejected(reason:)`.
/// - The clock (`run` only): whenever the wall clock passes a rule tick boundary (checked every
///   `tick()` and after every batch), `engine.advance(to: now)` runs the due ticks and a clock
///   mark is appended to the journal and committed BEFORE the resulting transitions are written
///   to the alert log. So the journal says exactly where, among the lines, every tick ran, and
///   recovery replays the same transitions (docs/ingest.md).
/// - Alerts at once (`run` only): after each group of lines with accepted data, before the
///   hub's journal commit, `engine.evaluate(at: now)` evaluates the rules those lines may have
///   changed and an `evaluate` mark is appended, so the same commit makes both durable; the
///   transitions go to the alert log and the notifier right after that commit. A line's alert
///   does not wait for the next tick.
public final class EngineConsumer: LineConsumer, @unchecked Sendable {
    /// The source name of operator lines the dashboard submits (their results are handed back).
    public static let operatorSource = "operator"
    public let engine: FlowEngine
    private let tickMillis: Int64
    /// nil: no clock (record validates only).
    private let clockJournal: Journal?
    private let runsClock: Bool
    public let alertLog: TransitionLog?
    public let slot: SnapshotSlot?
    /// Delivers notifications to the named leads (nil when the system file has none).
    public var notifier: NotificationService?
    /// Keeps the rejected-line counts across restarts (nil: not kept).
    public var rejectionFile: RejectionFile?
    public let acks = AckResults()
    private var lastMarkFloor: Int64?
    /// Accepted data not yet evaluated by the rules, and the latest evaluation instant.
    private var unevaluated = false
    private var lastEvaluation: EventTime?
    /// The newest event time among the lines accepted since the last evaluation.
    private var newestUnevaluated: EventTime?
    private var dirty = true
    /// The notifiers' status as last published (`NotificationService.notifierStatusVersion`).
    private var notifierVersion = 0
    private var lastPublish: UInt64 = 0
    private var resolvedThisRound: [(String, String)] = []
    public var publishInterval: UInt64 = 250_000_000
    /// The latest rejected line, where and why, in brief (`feed.jsonl:4 out_of_range ga_core_open`).
    public private(set) var lastRejection: String?

    public init(engine: FlowEngine, runsClock: Bool, journal: Journal?, alertLog: TransitionLog?, slot: SnapshotSlot?) {
        self.engine = engine
        self.tickMillis = max(1000, engine.config.tick.millis)
        self.runsClock = runsClock
        self.clockJournal = journal
        self.alertLog = alertLog
        self.slot = slot
    }

    public func consume(_ line: ArraySlice<UInt8>, origin: LineOrigin) -> LineVerdict {
        // A file resumed at a saved position (its first line this run is not its line 1) reads
        // again, after an unclean stop, the lines between that position (saved at most once a
        // second) and what the journal got: refused as duplicates, each was logged and counted
        // for good (286,910 after a `kill -9` mid-burst, the ops engineer's user test). Up to
        // its first line that is not a duplicate, they are skipped: not counted, said once.
        var catchUp: (count: Int, first: Int, last: Int)? = nil
        if origin.isFile {
            switch resumedCatchUp[origin.source] {
            case nil where origin.line > 1: catchUp = (0, origin.line, origin.line)
            case nil: resumedCatchUp[origin.source] = .over
            case .catching(let c)?: catchUp = c
            case .over?: break
            }
        }
        engine.quietDuplicates = catchUp != nil
        let outcome = line.withUnsafeBufferPointer { engine.ingest($0, receivedAt: WallClock.now()) }
        engine.quietDuplicates = false
        if var c = catchUp {
            if case .rejected(let r) = outcome, r.reason == .duplicateID {
                c.count += 1
                c.last = origin.line
                resumedCatchUp[origin.source] = .catching(c)
                return .rejected(reason: "duplicate_id: already in the journal (read again after an unclean stop)")
            }
            if c.count > 0 { Self.sayCaughtUp(origin.source, c) }
            resumedCatchUp[origin.source] = .over
        }
        switch outcome {
        case .accepted, .held:   // held: replay only, the live clock is the wall clock
            dirty = true
            unevaluated = runsClock
            if let at = engine.lastAcceptedAt, newestUnevaluated.map({ at > $0 }) ?? true { newestUnevaluated = at }
            return .accepted
        case .rejected(let r):
            rejected(origin, HeadlessReplay.describe(line: origin.line, r),
                     brief: r.reason.rawValue + (r.field.map { " " + $0 } ?? ""))
            if origin.source == EngineConsumer.operatorSource, let id = Self.operatorID(line) {
                // The dashboard's own line, refused before it was read as an action (an NHS
                // number in a note): its status line says so, and why (the log alone did).
                let what = id.hasPrefix("silence-") ? "Not silenced" : "Not acknowledged"
                resolvedThisRound.append((id, "\(what): " + OperatorAction.explain(r)))
            }
            return .rejected(reason: r.description)
        case let .operatorAction(action, applied):
            dirty = true
            var verdict: LineVerdict
            // A silence that replaced or ended one in force, or an acknowledgement that replaced
            // one, says so to its sender, and the log keeps it: a site's silence cut a
            // colleague's short without a word (user test), and so did a second acknowledgement.
            var replaced: String? = nil
            switch (action.kind, applied) {
            case (_, true): verdict = .accepted
            case (.clock, false), (.evaluate, false): verdict = .rejected(reason: "refused: the live clock is the wall clock; clock marks are written by urgentflow")
            case (.held, false): verdict = .rejected(reason: "refused: holds of the input are written by urgentflow")
            case let (.acknowledge(rule, site, _, _), false):
                // A unit the system does not have is said as a silence says it.
                verdict = .rejected(reason: engine.ackUnknown(site: site).map { "unknown_alert: " + $0 }
                                    ?? "no_active_alert: " + engine.ackRefusal(rule: rule, site: site))
            case let (.silence(site, rule, _, _, _), false):
                verdict = .rejected(reason: "unknown_alert: " + (engine.silenceRefusal(site: site, rule: rule) ?? "nothing to silence"))
            }
            if applied {
                switch action.kind {
                case let .acknowledge(rule, site, by, note):
                    _ = notifier?.acknowledge(rule: rule, site: site, by: by, note: note, at: action.at)
                    // One that replaced a colleague's in force says so, as a silence does.
                    if let said = engine.replacedAckNote(rule: rule, site: site) {
                        replaced = said
                        verdict = .acceptedNoting(said)
                        Log.info("acknowledgement \(action.id) by \(by) \(said)")
                    }
                case let .silence(site, rule, until, by, reason):
                    let s = Silence(id: action.id, site: site, rule: rule, from: action.at, until: until, by: by, reason: reason)
                    notifier?.silence(s)
                    if let note = engine.replacedSilenceNote(for: s) {
                        replaced = note
                        verdict = .acceptedNoting(note)
                        Log.info("silence \(action.id) by \(by) \(note)")
                    }
                case .clock, .evaluate, .held:
                    break
                }
            }
            if origin.source == EngineConsumer.operatorSource {
                switch action.kind {
                case let .acknowledge(rule, site, by, _):
                    resolvedThisRound.append((action.id, applied ? "Acknowledged \(rule) at \(site) by \(by): applied and recorded"
                                                                     + (replaced.map { "; it " + $0 } ?? "")
                                                                 : "Not acknowledged: " + engine.ackRefusal(rule: rule, site: site, justCleared: true)))
                case let .silence(site, rule, until, _, _):
                    // In local time, as everything else on the dashboard: the UTC instant read an
                    // hour out in summer.
                    let local = FlowEngine.localClock(until, engine.model.calendar)
                    resolvedThisRound.append((action.id, applied ? "Silenced \(rule ?? "every alert") at \(site) until \(local): applied and recorded"
                                                                     + (replaced.map { "; it " + $0 } ?? "")
                                                                 : "Not silenced: " + (engine.silenceRefusal(site: site, rule: rule) ?? "nothing to silence")))
                case .clock, .evaluate, .held:
                    break
                }
            }
            if case .rejected(let reason) = verdict, origin.source != EngineConsumer.operatorSource {
                // Logged, not counted (an operator line is not feed data; its sender was
                // answered), so not the header's last rejection either: `rejected 1, last: ...
                // unknown_alert` beside a count that did not hold it.
                Log.info("refused operator line \(origin.source) line \(origin.line): \(reason)")
            }
            return verdict
        }
    }

    /// The id of an operator line the dashboard wrote (`OperatorAction.jsonLine`: the id is its
    /// first string field after the feed), read without parsing it: the line was refused.
    static func operatorID(_ line: ArraySlice<UInt8>) -> String? {
        line.withUnsafeBufferPointer { p in
            JSONText.rawStringText(p, Array(#""id":""#.utf8))
        }
    }

    public func rejectedBeforeConsume(origin: LineOrigin, reason: String) {
        rejected(origin, reason: reason)
    }

    /// A line refused with `reason` (`out_of_range: field ...`): located by its line number, and
    /// briefly by the reason's code.
    private func rejected(_ origin: LineOrigin, reason: String) {
        rejected(origin, "line \(origin.line): \(reason)", brief: reason.prefix { $0 != ":" })
    }

    /// Every rejected line is logged (stderr, or the dashboard's log file) with its source, line
    /// number and reason: a file or stdin has no one to answer, and its lines were only counted.
    /// Said as information, not as a warning (the service's warnings are its own troubles).
    /// `located`: the line number and the reason (`line 4: feed bed: site RWH: out_of_range: ...`),
    /// logged; `brief`: the reason and field alone (`out_of_range ga_core_occupied`), for the
    /// status line with the file's name rather than its path.
    ///
    /// At most `rejectionsLoggedPerMinute` a source a minute are logged one by one; the rest of
    /// that minute are said together when it is up (`sayUnloggedRejections`), by reason: a
    /// producer resending 57,665 lines after a crash, each refused `duplicate_id`, wrote a log
    /// line each, 54 MB of log for one burst (the ops engineer's user test).
    private func rejected(_ origin: LineOrigin, _ located: String, brief: some StringProtocol) {
        lastRejection = "\(origin.shortSource):\(origin.line) \(brief)"
        dirty = true
        let now = monotonicNanos()
        var w = rejectionLog[origin.source] ?? RejectionLogWindow(start: now)
        if now &- w.start >= 60_000_000_000 {
            sayUnloggedRejections(origin.source, w)
            w = RejectionLogWindow(start: now)
        }
        if w.logged < Self.rejectionsLoggedPerMinute {
            w.logged += 1
            logRejection("rejected \(origin.source) \(located)")
        } else {
            w.unlogged[String(brief.prefix { $0 != " " }), default: 0] += 1
            w.lines = (w.lines?.first ?? origin.line, origin.line)
        }
        rejectionLog[origin.source] = w
    }

    static let rejectionsLoggedPerMinute = 20
    /// A source's rejections logged in its current minute, and those not logged, by reason.
    struct RejectionLogWindow {
        var start: UInt64
        var logged = 0
        var unlogged: [String: Int] = [:]
        var lines: (first: Int, last: Int)?
    }
    private var rejectionLog: [String: RejectionLogWindow] = [:]
    /// Per file source: nil until its first line this run; then its catch-up after a resume
    /// (the duplicates skipped so far, and their lines), or `over` once a line is not one, or
    /// when it started at line 1.
    private var resumedCatchUp: [String: CatchUp] = [:]
    private enum CatchUp { case catching((count: Int, first: Int, last: Int)), over }

    /// A resumed file's lines skipped as already journalled, said once.
    private static func sayCaughtUp(_ source: String, _ c: (count: Int, first: Int, last: Int)) {
        Log.info("input \(source): lines \(c.first) to \(c.last) were already in the journal, read again after an unclean "
                 + "stop (the saved position was behind it): skipped, not counted as rejected")
    }
    /// Where rejected lines are said (the service's log; a test's own).
    public var logRejection: (String) -> Void = { Log.info($0) }
    /// The clock the rejection log's minutes are on (a test's own).
    public var monotonicNanos: () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }

    private func sayUnloggedRejections(_ source: String, _ w: RejectionLogWindow) {
        let n = w.unlogged.values.reduce(0, +)
        guard n > 0, let lines = w.lines else { return }
        let reasons = w.unlogged.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        logRejection("rejected \(source) lines \(lines.first) to \(lines.last): \(n) more not logged one by one (\(reasons)); "
                 + "the first \(Self.rejectionsLoggedPerMinute) of each minute are")
    }

    /// Says every source's rejections not logged yet (at the stop, once the hub has stopped),
    /// and a resumed file's lines skipped as already journalled, if its catch-up is not over.
    public func sayUnloggedRejections() {
        sayDueRejections(all: true)
        for (source, state) in resumedCatchUp {
            guard case .catching(let c) = state, c.count > 0 else { continue }
            Self.sayCaughtUp(source, c)
            resumedCatchUp[source] = .over
        }
    }

    /// Says the unlogged rejections of the sources whose minute is up (at each tick, so a burst
    /// that stops is said within a minute, not only with the next rejection).
    private func sayDueRejections(all: Bool = false) {
        let now = monotonicNanos()
        for (source, w) in rejectionLog where all || now &- w.start >= 60_000_000_000 {
            sayUnloggedRejections(source, w)
            rejectionLog[source] = nil
        }
    }

    /// Evaluates the rules the group's accepted lines may have changed, at the wall clock, and
    /// appends the `evaluate` mark that the hub's commit, next, makes durable with the lines.
    public func batchWillCommit() {
        guard unevaluated, heldSince == nil else { return }
        unevaluated = false
        var now = WallClock.now()
        let newest = newestUnevaluated
        newestUnevaluated = nil
        // A backlog (the group's newest line more than `max_future_skew` old: a producer sending
        // hours at go-live or a back-fill) waits for the next tick, by when the rest of it is
        // usually in: evaluated at once, the old data of its first group raised alerts that its
        // next group cleared milliseconds later, and each paged a lead. Current lines are
        // evaluated at once, as before.
        if let newest, newest < now - engine.config.ingest.maxFutureSkewLive { return }
        if let last = lastEvaluation, now < last { now = last }   // the wall clock stepped back
        lastEvaluation = now
        engine.evaluate(at: now)
        clockJournal?.append(Array(OperatorAction.mark(.evaluate, at: now).jsonLine.utf8))
    }

    public func batchDidEnd() {
        deliverTransitions()   // of `batchWillCommit`'s evaluation, committed with the lines
        advanceIfDue()
        if !resolvedThisRound.isEmpty {
            // The hub committed the journal before calling us: these acknowledgements are durable.
            publish(force: true)
            for (id, msg) in resolvedThisRound { acks.resolve(id, msg) }
            resolvedThisRound.removeAll()
        }
        publish(force: false)
    }

    public func tick() {
        sayDueRejections()
        // A notifier starting or stopping failing is published at once (its own alert), not
        // with the next rule tick or line.
        if let v = notifier?.notifierStatusVersion, v != notifierVersion {
            notifierVersion = v
            dirty = true
        }
        advanceIfDue()
        publish(force: false)
        saveRejections(force: false)
    }

    /// Writes the rejected-line counts if they changed (at most once a second unless `force`).
    /// On the consumer thread, or once the hub has stopped.
    ///
    /// A save that fails is tried again at each chance (every second while the counts are
    /// unsaved), but warned about as a `RepeatedFailure`; a save that works again after failing
    /// is said. (Each failed try was a warning: a line a second in the log, and the status
    /// line's count of warnings ran away.)
    public func saveRejections(force: Bool) {
        guard let rejectionFile else { return }
        do {
            if try rejectionFile.save(engine, force: force), let f = rejectionSaveFailure {
                rejectionSaveFailure = nil
                Log.info("rejected-line counts saved again, after \(f.count) failed \(f.count == 1 ? "try" : "tries")")
            }
        } catch {
            var f = rejectionSaveFailure ?? RepeatedFailure()
            if f.failed(now: WallClock.monotonicNanos()) {
                Log.warn("rejected-line counts: \(error)" + (f.count > 1 ? " (still failing: \(f.count) tries)" : "; tried again every second, warned again every 4 minutes"))
            }
            rejectionSaveFailure = f
        }
    }

    /// A failing save of the rejected-line counts (nil: the last one worked).
    private var rejectionSaveFailure: RepeatedFailure?

    /// Runs the rule ticks due by the wall clock (see the type's documentation); none while the
    /// journal holds the input (`journalHeld`).
    public func advanceIfDue() {
        guard runsClock else { return }
        let now = WallClock.now()
        let floor = now.floored(to: Duration(millis: tickMillis)).millis
        if let last = lastMarkFloor, floor <= last { return }
        lastMarkFloor = floor
        if heldSince == nil {
            engine.advance(to: now)
            if let j = clockJournal {
                j.append(Array(OperatorAction.mark(.clock, at: now).jsonLine.utf8))
                do { try j.commit() } catch { Log.warn("journal commit of a clock mark failed: \(error)") }
            }
            deliverTransitions()
        }
        // Repeats, escalations and silence ends run on the same clock (held or not: an alert
        // already firing still goes to the next lead if no one acknowledges it).
        notifier?.tick(now: PolicyClock.instant(now, tick: engine.config.tick), current: engine.activeAlert)
        dirty = true
    }

    /// The journal's backlog passed its bound (its commits fail: a full disk), and when; nil when
    /// it writes.
    ///
    /// The hub then holds or refuses every line, so the picture stops at the lines taken. Run on,
    /// the rule ticks called each feed stale after its expected interval, and paged its lead, for
    /// a silence that was urgentflow's own. They wait instead: the engine's clock stays where the
    /// picture stopped (the dashboard's status line says so, `journalHeldSince`), and once the
    /// journal writes again the lines that waited are taken and the ticks catch up with them,
    /// exactly as the journal then records them (lines, then the catch-up's mark), so recovery
    /// gives the same alerts.
    public private(set) var heldSince: EventTime?
    /// The holds so far, said as a `RepeatedFailure` (a disk with room in bits flips it).
    private var holds = RepeatedFailure()

    public func journalHeld(_ held: Bool) {
        guard runsClock else { return }
        if held, heldSince == nil {
            let now = WallClock.now()
            heldSince = now
            if holds.failed(now: WallClock.monotonicNanos()) {
                Log.warn("the journal cannot write (disk full?): input waits, and the rule ticks wait with it from "
                         + FlowEngine.localClock(now, engine.model.calendar) + ", so no feed is called stale for lines urgentflow holds")
            }
        } else if !held, let since = heldSince {
            heldSince = nil
            // The hold is not the feeds' silence; journalled before the lines that waited, as
            // recovery must apply it.
            let until = max(WallClock.now(), since)
            engine.inputHeld(from: since, until: until)
            clockJournal?.append(Array(OperatorAction.held(from: since, until: until).jsonLine.utf8))
            Log.info("the journal writes again: the lines that waited are taken and the rule ticks held since "
                     + FlowEngine.localClock(since, engine.model.calendar) + " catch up")
            lastMarkFloor = nil   // the next chance runs the ticks up to now
        }
        dirty = true
    }

    /// Writes the engine's new transitions to the alert log and hands them to the notifier.
    /// Called only once the journal records what made them (a commit since they were made).
    private func deliverTransitions() {
        guard engine.hasPendingTransitions else { return }
        let t = engine.drainTransitions()
        alertLog?.append(t)
        notifier?.handle(t, current: engine.activeAlert)
        dirty = true
    }

    public func publish(force: Bool) {
        guard let slot, dirty else { return }
        let now = WallClock.monotonicNanos()
        guard force || now &- lastPublish >= publishInterval else { return }
        lastPublish = now
        dirty = false
        var snap = engine.snapshot(historyPoints: 72)
        snap.lastRejection = lastRejection
        snap.journalHeldSince = heldSince.map { engine.model.calendar.clockText($0) }
        if let notifier { Notifications.overlay(&snap, notifier) }
        slot.publish(snap)
    }
}
