import DequeModule
import Foundation
import FlowCore

/// The notifications of one running system, wired together: the pure policy and router, the
/// alert log, the outbox and the delivery worker. `handle` and `tick` only decide, append to
/// the log and the outbox, and signal the worker: they never wait for a delivery.
///
/// Replay (`.replay`): every configured notifier is replaced by a `RecordingSink` of the same
/// name (writing `recorded-<name>.jsonl` in the state directory), so nobody is paged by a
/// replay, unless `.live` is asked for explicitly.
public final class NotificationService: @unchecked Sendable {
    public enum Mode: Sendable, Equatable {
        /// Notifications go to recording sinks, never to real people.
        case replay
        /// Notifications go to the configured notifiers.
        case live
    }

    public let system: SystemConfig
    public let config: NotificationConfig
    public let mode: Mode
    public let log: AlertLog
    public let outbox: Outbox
    public let worker: DeliveryWorker
    /// In replay, the sinks standing in for the notifiers (by notifier name).
    public let recordings: [String: RecordingSink]
    private let router: NotifierRouter
    private let lock = NSLock()
    private var policy: NotificationPolicy
    private var failingSince: [String: EventTime] = [:]
    /// An operator action from the log of a previous run.
    private enum Restored {
        case ack(rule: String, site: String, ack: Acknowledgement)
        case silence(Silence)
        var at: EventTime {
            switch self {
            case .ack(_, _, let a): return a.at
            case .silence(let s): return s.from
            }
        }
    }
    /// The notification log's name in the state directory when no `log` notifier names one.
    public static let logName = "notifications.jsonl"
    /// Its name in earlier versions, the same as `run`'s transition log (`<journal>/alerts.jsonl`,
    /// beside `<journal>/notify/alerts.jsonl`): on-call staff told to `tail -F alerts.jsonl`
    /// could watch either.
    static let legacyLogName = "alerts.jsonl"
    /// What `migrateLegacyLog` did when the service started, to be said once; nil: nothing.
    public let migration: String?
    /// The notification log's lines holding free text the patient-data checks refuse, one
    /// warning each, to be said once (`NotificationLogRedaction`).
    public let identifiableText: [String]

    /// The notification log's path for a state directory: the `log` notifier's path (relative
    /// to the directory), else `notifications.jsonl` there.
    public static func logPath(stateDirectory: String, config: NotificationConfig) -> String {
        var path = stateDirectory + "/" + logName
        for n in config.notifiers {
            if case .log(let p) = n.kind { path = p.hasPrefix("/") ? p : stateDirectory + "/" + p }
        }
        return path
    }

    /// A state directory from before the rename: its `alerts.jsonl` becomes `notifications.jsonl`,
    /// so that a restart carries on from it (what was sent is not sent again, and the operators'
    /// acknowledgements, silences and each notifier's deliveries are restored). Only when the log
    /// is the default name in this directory (a `log` notifier naming its own path is left as
    /// it is: `path: alerts.jsonl` keeps that file) and does not exist yet.
    static func migrateLegacyLog(stateDirectory: String, logPath: String) throws -> String? {
        let fresh = stateDirectory + "/" + logName, legacy = stateDirectory + "/" + legacyLogName
        let files = FileManager.default
        guard logPath == fresh, !files.fileExists(atPath: fresh), files.fileExists(atPath: legacy) else { return nil }
        do { try files.moveItem(atPath: legacy, toPath: fresh) } catch {
            throw NotifyIOError("cannot rename the notification log \(legacy) to \(fresh): \(error.localizedDescription)")
        }
        return "notification log: \(legacy) renamed to \(fresh) (its name before this version, the same as the alert transition log's)"
    }

    /// The operator actions (acknowledgements and silences) from the log of a previous run, in
    /// time order, each applied when the re-fed clock reaches it, as the live run applied it.
    private var restored: Deque<Restored> = []

    /// - Parameters:
    ///   - stateDirectory: holds `outbox.jsonl`, the notification log (`notifications.jsonl`
    ///     or the `log` notifier's path, relative to this directory) and the replay recordings.
    ///   - notifiers: overrides the notifiers built from the configuration (tests).
    public init(system: SystemConfig, config: NotificationConfig, stateDirectory: String, mode: Mode,
                notifiers: [Notifier]? = nil, retry: RetryPolicy = RetryPolicy(),
                wallClock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.system = system
        self.config = config
        self.mode = mode
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let logPath = Self.logPath(stateDirectory: stateDirectory, config: config)
        migration = try Self.migrateLegacyLog(stateDirectory: stateDirectory, logPath: logPath)
        // The last run's log, read once: what was written (not written again), the operator
        // actions and each notifier's deliveries (restored below).
        let previous = AppendFile.readLines(logPath)
        log = try AlertLog(path: logPath, existing: previous)
        // Synced line by line when people are paged from it, and a reminder waiting behind a
        // later message of its alert is dropped; a replay's recordings keep every notification
        // and are made again by replaying again (a fsync for each took 2.9 s of a 3 s Boxing Day replay
        // with --notify-dir, against 0.07 s without notifications).
        outbox = try Outbox(directory: stateDirectory, durable: mode == .live, supersedesRepeats: mode == .live, wallClock: wallClock)
        outbox.onSuperseded = { [log] key, notifier in
            log.recordDelivery(key: key, notifier: notifier, outcome: "superseded", attempt: 0, error: nil, wall: wallClock())
        }
        var list: [Notifier]
        var rec: [String: RecordingSink] = [:]
        if let notifiers {
            list = notifiers
        } else if mode == .replay {
            list = []
            for n in config.notifiers {
                if case .log = n.kind { continue }
                let sink = try RecordingSink(name: n.name, path: stateDirectory + "/recorded-\(n.name).jsonl")
                rec[n.name] = sink
                list.append(sink)
            }
        } else {
            list = try Self.makeNotifiers(config, wallClock: wallClock)
        }
        recordings = rec
        // A restart: each notifier carries on from its deliveries in the last run (failing still,
        // with its own alert from the start, since the failure that made it so).
        let history = AlertLog.readDeliveryHistory(previous, failingAfter: retry.failingAfter)
        worker = DeliveryWorker(outbox: outbox, notifiers: list, retry: retry, log: log, history: history, wallClock: wallClock)
        for (name, h) in history {
            if let since = h.failingSince { failingSince[name] = EventTime(since) }
        }
        router = NotifierRouter(system: system, routes: config.routes)
        policy = NotificationPolicy(system: system, config: config)
        // A restart: the engine re-feeds its history; the operator actions of the previous run
        // come from the log, so the same notifications (same ids, already in the outbox) are decided.
        // Each is applied when the re-fed clock reaches it (`applyRestored`), not all at start: a
        // silence applied at start was in force before it was given, and one given later for the
        // same site replaced it before its time.
        // Free text the patient-data checks now refuse (written under an earlier release's
        // checks): restored without it, as the journal's line is, and named.
        var readable = previous
        var found: [String] = []
        for l in NotificationLogRedaction.identifiableLines(previous) {
            readable[l.line - 1] = Substring(l.redacted)
            found.append("notification log \(logPath):\(l.line): holds patient-identifiable data (\(l.why)); restored without "
                         + "its text: remove it from the log (urgentflow redact, with the service stopped)")
        }
        identifiableText = found
        let actions = AlertLog.readActions(readable)
        let all = actions.acks.map { Restored.ack(rule: $0.rule, site: $0.site, ack: $0.ack) } + actions.silences.map { Restored.silence($0) }
        restored = Deque(all.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element))
        worker.start()
    }

    /// The delivery adapters for the configured notifiers (the `log` kind is the alert log).
    public static func makeNotifiers(_ config: NotificationConfig, wallClock: @escaping @Sendable () -> Date = { Date() }) throws -> [Notifier] {
        var out: [Notifier] = []
        for n in config.notifiers {
            switch n.kind {
            case .log: continue
            case .command(let argv, let timeout):
                out.append(CommandNotifier(name: n.name, argv: argv, timeout: Double(timeout.millis) / 1000))
            case .webhook(let url, let timeout, let headers):
                guard let target = HTTPTarget(url: url) else { throw NotifyIOError("notifier \(n.name): bad url \(url)") }
                out.append(WebhookNotifier(name: n.name, target: target, timeout: Double(timeout.millis) / 1000, headers: headers))
            case .alertmanager(let url, let timeout, let validFor):
                guard let target = HTTPTarget(url: url) else { throw NotifyIOError("notifier \(n.name): bad url \(url)") }
                out.append(AlertmanagerNotifier(name: n.name, target: target, timeout: Double(timeout.millis) / 1000,
                                                validFor: Double(validFor.millis) / 1000, wallClock: wallClock))
            }
        }
        return out
    }

    /// Transitions from the engine (after each drain). Logged, decided, put in the outbox.
    /// `current`: the engine's alerts now (`FlowEngine.activeAlert`), for what the messages made
    /// besides the transitions' own say of their alert (`NotificationPolicy`); called on this
    /// thread, before `handle` returns.
    public func handle(_ transitions: [AlertTransition], current: NotificationPolicy.CurrentAlert? = nil) {
        guard !transitions.isEmpty else { return }
        lock.withLock {
            for t in transitions {
                applyRestored(upTo: t.at)
                log.record(t)
                dispatch(policy.handle(t, current: current))
            }
        }
        worker.wake()
    }

    /// The earliest instant the policy has something due (`NotificationPolicy.nextDue`), or an
    /// operator action restored from the log is to be applied; nil: nothing.
    public func nextDue() -> EventTime? {
        lock.withLock {
            let due = policy.nextDue()
            guard let a = restored.first?.at else { return due }
            return due.map { min($0, a) } ?? a
        }
    }

    /// A tick at `now` only if the policy has something due by then (`NotificationPolicy.nextDue`)
    /// or an operator action restored from the log comes first: the same decisions as `tick`.
    public func tickIfDue(now: EventTime, current: NotificationPolicy.CurrentAlert? = nil) {
        let due = lock.withLock { () -> Bool in
            if let a = restored.first, a.at <= now { return true }
            return policy.nextDue().map { $0 <= now } ?? false
        }
        if due { tick(now: now, current: current) }
    }

    /// The clock (event time): repeats, escalation, expiries, silence ends, digests.
    /// `current`: the engine's alerts as of `now` (`FlowEngine.activeAlert`): what each message
    /// says of its alert, its value and sentence then (without it, its last transition's).
    public func tick(now: EventTime, current: NotificationPolicy.CurrentAlert? = nil) {
        let any = lock.withLock {
            applyRestored(upTo: now)
            let out = policy.tick(now: now, current: current)
            dispatch(out)
            return !out.isEmpty
        }
        if any { worker.wake() }
    }

    /// The restored operator actions up to `t`, applied as the live run applied them: to the
    /// policy's state only, without a tick. Live, an acknowledgement or a silence does not tick
    /// the policy (only the clock's ticks on the grid and the transitions do), so nothing is
    /// decided at the action's own instant. A restart ticked the policy at each restored
    /// acknowledgement's instant: an acknowledgement expiring in the seconds before a silence was
    /// decided then, before the silence, and paged (`ack_expired`) where the live run, ticking
    /// only at the next minute, found the alert silenced and paged nobody; the extra message
    /// moved the alert's sequence on, so every later notification had a new id and was sent again.
    private func applyRestored(upTo t: EventTime) {
        while let a = restored.first, a.at <= t {
            restored.removeFirst()
            switch a {
            case let .ack(rule, site, ack):
                policy.acknowledge(rule: rule, site: site, by: ack.by, note: ack.note, at: ack.at, expires: ack.expires)
            case let .silence(s):
                policy.silence(s)
            }
        }
    }

    /// Said when the notification state cannot be written (a full disk): a notification the
    /// outbox cannot keep is still delivered in this run, and the end of a delivery it cannot
    /// record is not delivered again (`DeliveryWorker.onStateProblem`). Set before the first alert.
    public var onStateProblem: (@Sendable (String) -> Void)? {
        get { worker.onStateProblem }
        set { worker.onStateProblem = newValue; log.onWriteProblem = newValue }
    }

    private func dispatch(_ ns: [AlertNotification]) {
        for n in ns {
            let to = router.notifiers(for: n).filter(worker.notifierNames.contains)
            // Decided again after a restart (the same id): logged and put in the run that decided
            // it first (the log is written before the outbox), so neither is done again; encoding
            // both only to find them known was most of a long journal's restart.
            if !to.isEmpty, outbox.knowsAll(n, notifiers: to) { continue }
            log.record(n, notifiers: to)
            do { try outbox.put(n, notifiers: to) } catch {
                onStateProblem?("outbox: \(n.rule) at \(n.site) for \(to.joined(separator: ", ")) is not kept for a restart (\(error)); it is delivered in this run")
            }
        }
    }

    @discardableResult
    public func acknowledge(rule: String, site: String, by: String, note: String? = nil, at: EventTime, expires: EventTime? = nil) -> Bool {
        lock.withLock {
            guard policy.acknowledge(rule: rule, site: site, by: by, note: note, at: at, expires: expires) else { return false }
            if let a = policy.activeAlerts().first(where: { $0.rule == rule && $0.site == site })?.acknowledgement {
                log.recordAck(rule: rule, site: site, a)
            }
            return true
        }
    }

    public func silence(_ s: Silence) {
        lock.withLock {
            policy.silence(s)
            log.record(s)
        }
    }

    public func endSilence(id: String, at: EventTime) {
        lock.withLock {
            if var s = policy.activeSilences.first(where: { $0.id == id }) {
                s.until = max(at, s.from)
                log.record(s)
            }
            policy.endSilence(id: id, at: at)
        }
    }

    public func activeAlerts() -> [NotifyAlertStatus] { lock.withLock { policy.activeAlerts() } }
    public var activeSilences: [Silence] { lock.withLock { policy.activeSilences } }

    /// Told when a notifier starts or stops failing (`NotifierStatus.change`). Set before the
    /// first alert, as `onStateProblem`.
    public var onNotifierStatusChange: (@Sendable (NotifierStatus) -> Void)? {
        get { worker.onStatusChange }
        set { worker.onStatusChange = newValue }
    }

    /// Per-notifier delivery status for the dashboard.
    public func notifierStatus() -> [NotifierStatus] { worker.status() }

    /// Moves on whenever a failing notifier's own alert changes (`DeliveryWorker.statusVersion`):
    /// the live service then publishes the dashboard's picture again.
    public var notifierStatusVersion: Int { worker.statusVersion }

    /// The notifiers' own alerts (firing while a notifier keeps failing), for the alert list,
    /// with the name of each failing notifier, in name order: every one of these alerts
    /// has the rule `notifier_failing` and the site SYSTEM, so the name is what tells them apart
    /// (the dashboard selects alerts by identity).
    public func failingNotifiers(now: EventTime) -> [(notifier: String, alert: AlertTransition)] {
        lock.withLock {
            var out: [(notifier: String, alert: AlertTransition)] = []
            for s in worker.status() {
                if s.failing {
                    let since = failingSince[s.name] ?? now
                    failingSince[s.name] = since
                    if let a = s.alert(at: now, since: since) { out.append((s.name, a)) }
                } else {
                    failingSince[s.name] = nil
                }
            }
            return out
        }
    }

    /// Stops delivery (finishing the one in hand) and closes the files. Pending entries stay in
    /// the outbox for the next start.
    /// `drain`: deliver what the outbox holds first (within `timeout`), as a replay must: its
    /// recordings missed the last notifications, which the next run into the same directory
    /// then delivered (with `--deliver`, an old replay's messages sent for real). Live, the
    /// outbox keeps what is pending for the restart instead.
    public func close(timeout: Double = 30, drain: Bool = false) {
        if drain {
            worker.wake()
            let deadline = Date(timeIntervalSinceNow: timeout)
            while outbox.pendingCount() > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        }
        worker.stop(timeout: timeout)
        outbox.close()
        log.close()
    }
}
