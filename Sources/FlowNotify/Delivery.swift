import Foundation
import FlowCore

/// Delivers one notification somewhere. Blocking, bounded by the notifier's own timeout;
/// throws on failure (the worker retries). Implementations must be safe to call again with a
/// notification already delivered (the id is the idempotency key).
public protocol Notifier: AnyObject, Sendable {
    var name: String { get }
    func deliver(_ n: AlertNotification) throws
}

/// Records notifications instead of sending them (replay, tests). Optionally appends each one
/// as a JSON line to a file.
public final class RecordingSink: Notifier, @unchecked Sendable {
    public let name: String
    private let lock = NSLock()
    private var _delivered: [AlertNotification] = []
    private var _count = 0
    private let file: AppendFile?
    /// How many of the latest notifications `delivered` holds (the file, if any, has them all).
    /// It held every one: a replay of a winter at the Boxing Day surge's pace (530 recorded a
    /// day across the three notifiers, about 590 bytes each) grew by some 300 KB a day of event
    /// time, 12.5 MB over 40 days.
    public static let kept = 1_000

    public init(name: String, path: String? = nil) throws {
        self.name = name
        file = try path.map { try AppendFile(path: $0) }
    }

    public func deliver(_ n: AlertNotification) throws {
        lock.withLock {
            // The oldest half let go at twice the count kept: a shift per delivery otherwise.
            if _delivered.count >= 2 * Self.kept { _delivered.removeFirst(_delivered.count - Self.kept) }
            _delivered.append(n)
            _count += 1
        }
        try file?.append([NotificationJSON.line(n)], sync: false)
    }

    /// The latest notifications delivered (at most `kept`), oldest first.
    public var delivered: [AlertNotification] { lock.withLock { Array(_delivered.suffix(Self.kept)) } }
    /// How many were delivered in all.
    public var deliveredCount: Int { lock.withLock { _count } }
}

/// Retry timing of the delivery worker (wall-clock seconds).
public struct RetryPolicy: Sendable, Equatable {
    /// First retry after this; doubled per consecutive failure up to `maxBackoff`.
    public var initialBackoff: Double
    public var maxBackoff: Double
    /// This many consecutive failures make the notifier `failing` (its own alert).
    public var failingAfter: Int
    /// A delivery still failing after this many attempts is given up (recorded, not lost silently).
    public var maxAttempts: Int
    /// A delivery waiting longer than this (seconds) for a notifier that fails is given up too,
    /// at the notifier's next failure: a day-old page is no use to the lead, and the backlog of
    /// a notifier down for weeks grew without end (`Outbox.giveUpWaiting`). An alert still
    /// firing and not acknowledged keeps being repeated (the latest reminder waits).
    public var maxWait: Double
    public init(initialBackoff: Double = 2, maxBackoff: Double = 300, failingAfter: Int = 3, maxAttempts: Int = 50,
                maxWait: Double = 24 * 3600) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.failingAfter = failingAfter
        self.maxAttempts = maxAttempts
        self.maxWait = maxWait
    }
    public func backoff(afterFailures n: Int) -> Double {
        min(maxBackoff, initialBackoff * pow(2, Double(max(0, n - 1))))
    }
}

/// What the dashboard shows about a notifier.
public struct NotifierStatus: Sendable, Equatable {
    public var name: String
    public var pending: Int
    public var consecutiveFailures: Int
    public var lastError: String?
    public var lastSuccess: Date?
    public var lastFailure: Date?
    public var sent: Int
    public var gaveUp: Int
    /// Failing `failingAfter` times in a row: raise its own alert.
    public var failing: Bool

    /// What a service says on stderr (journald, `urgentflow.log` under the dashboard) when the
    /// notifier starts or stops failing: without a screen, its own alert is seen nowhere, and
    /// a dead pager went unnoticed for as long as it was down.
    public var change: String {
        failing ? "notifier \(name) is failing: \(consecutiveFailures) deliveries in a row failed (\(lastError ?? "no error given")); "
                  + "\(pending) waiting, retried with backoff"
                : "notifier \(name) delivers again"
    }

    /// The notifier's own alert (rule `notifier_failing`, site SYSTEM, firing; the value is the
    /// failures in a row), as a core transition for the dashboard's alert list (only there: it
    /// is not routed or logged as a transition). Every failing notifier's has the same rule and
    /// site: `NotificationService.failingNotifiers` pairs each with its name. nil when not failing.
    public func alert(at now: EventTime, since: EventTime) -> AlertTransition? {
        guard failing else { return nil }
        return AlertTransition(at: now, rule: "notifier_failing", site: systemSiteCode, severity: pending > 0 ? .critical : .warning,
                               state: .firing, value: Double(consecutiveFailures),
                               summary: "Notifier \(name) failing \(consecutiveFailures) times in a row (\(pending) pending): \(lastError ?? "?")",
                               leadID: nil, since: since)
    }
}

/// What the alert log says of a notifier's deliveries up to the last stop: what a restart needs
/// to carry on where the last run was (`AlertLog.readDeliveryHistory`). A notifier failing
/// when the service stopped is failing from the start of the next run, with its own alert, not
/// only after `failingAfter` more failures; a delivery's attempts count toward `maxAttempts`
/// across restarts.
public struct DeliveryHistory: Sendable, Equatable {
    /// Failures in a row since the last delivery sent (a delivery given up counts as one).
    public var consecutiveFailures = 0
    public var lastError: String?
    public var lastFailure: Date?
    public var lastSuccess: Date?
    /// When the current run of failures reached `failingAfter` (nil: not failing).
    public var failingSince: Date?
    /// Failed attempts of each delivery neither sent nor given up, by outbox key.
    public var attempts: [String: Int] = [:]
    public init() {}
}

/// Delivers outbox entries in the background, one thread per notifier (a slow pager does not
/// hold up the webhook), in order, retrying with exponential backoff. Never called from the
/// ingest or screen path: `wake()` only signals.
public final class DeliveryWorker: @unchecked Sendable {
    public let outbox: Outbox
    public let retry: RetryPolicy
    private let notifiers: [String: Notifier]
    private let log: AlertLog?
    private let wallClock: @Sendable () -> Date
    private let cond = NSCondition()
    private var running = false
    private var threads: [Thread] = []
    private var finished = 0
    private var statuses: [String: NotifierStatus] = [:]
    /// Failed attempts of each notifier's delivery in hand (by outbox key), toward `maxAttempts`.
    private var attempts: [String: Int] = [:]
    /// Each notifier's delivery in hand: when the worker moves on from one (sent, given up, or
    /// superseded in the outbox while it was being retried), its attempts are forgotten. A
    /// reminder superseded while its notifier was failing kept its count for as long as the
    /// service ran.
    private var inHand: [String: String] = [:]
    private var retryAt: [String: Date] = [:]
    /// Called (on a worker thread) when a notifier starts or stops failing.
    public var onStatusChange: (@Sendable (NotifierStatus) -> Void)?
    /// Called when the outbox cannot record that a delivery finished (a full disk): it is not
    /// delivered again in this run, but would be once more after a restart.
    public var onStateProblem: (@Sendable (String) -> Void)?

    /// - Parameter history: each notifier's deliveries in the last run (`AlertLog.readDeliveryHistory`):
    ///   its failures in a row, last error and the attempts of pending deliveries carry on. The
    ///   first attempt is made at once, not after the last run's backoff: a restart is often how
    ///   a notifier's configuration is mended.
    public init(outbox: Outbox, notifiers: [Notifier], retry: RetryPolicy = RetryPolicy(), log: AlertLog? = nil,
                history: [String: DeliveryHistory] = [:], wallClock: @escaping @Sendable () -> Date = { Date() }) {
        self.outbox = outbox
        self.retry = retry
        self.log = log
        self.wallClock = wallClock
        var m: [String: Notifier] = [:]
        for n in notifiers { m[n.name] = n }
        self.notifiers = m
        for n in notifiers {
            let h = history[n.name] ?? DeliveryHistory()
            statuses[n.name] = NotifierStatus(name: n.name, pending: 0, consecutiveFailures: h.consecutiveFailures, lastError: h.lastError,
                                              lastSuccess: h.lastSuccess, lastFailure: h.lastFailure, sent: 0, gaveUp: 0,
                                              failing: h.consecutiveFailures >= retry.failingAfter)
            for key in outbox.pendingKeys(notifier: n.name) { if let a = h.attempts[key] { attempts[key] = a } }
        }
    }

    public var notifierNames: Set<String> { Set(notifiers.keys) }

    /// The outbox keys whose failed attempts are counted (tests).
    var attemptedKeys: Set<String> {
        cond.lock()
        defer { cond.unlock() }
        return Set(attempts.keys)
    }

    public func start() {
        cond.lock()
        defer { cond.unlock() }
        guard !running else { return }
        running = true
        for name in notifiers.keys.sorted() {
            let t = Thread { [self] in self.loop(name) }
            t.name = "notify-\(name)"
            threads.append(t)
            t.start()
        }
    }

    /// Stops the threads (each finishes the delivery in hand); waits at most `timeout` seconds.
    public func stop(timeout: Double = 30) {
        cond.lock()
        running = false
        cond.broadcast()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while finished < threads.count && Date() < deadline { _ = cond.wait(until: deadline) }
        cond.unlock()
    }

    /// New entries are in the outbox.
    public func wake() {
        cond.lock()
        cond.broadcast()
        cond.unlock()
    }

    /// Moves on whenever what a failing notifier's own alert says changes: it starts failing,
    /// fails again, or delivers again. The live service republishes the dashboard's picture
    /// when it moves: the alert came only with the next rule tick or line (up to a minute, so
    /// a notifier failing for 56 seconds never showed one), and stayed as long after it cleared.
    public var statusVersion: Int {
        cond.lock()
        defer { cond.unlock() }
        return version
    }
    private var version = 0

    public func status() -> [NotifierStatus] {
        cond.lock()
        defer { cond.unlock() }
        return notifiers.keys.sorted().map { name in
            var s = statuses[name]!
            s.pending = outbox.pendingCount(notifier: name)
            return s
        }
    }

    private func loop(_ name: String) {
        let notifier = notifiers[name]!
        while true {
            cond.lock()
            var entry: OutboxEntry?
            while running {
                // Waits are on the real clock: `wallClock` (moved on by tests) dates what it says.
                let now = wallClock()
                if let until = retryAt[name], until > now {
                    _ = cond.wait(until: Date(timeIntervalSinceNow: min(until.timeIntervalSince(now), 1)))
                    continue
                }
                entry = outbox.firstPending(notifier: name)
                if entry != nil { break }
                _ = cond.wait(until: Date(timeIntervalSinceNow: 1))
            }
            if !running {
                finished += 1
                cond.broadcast()
                cond.unlock()
                return
            }
            guard let e = entry else { cond.unlock(); continue }
            if let previous = inHand[name], previous != e.key { attempts[previous] = nil }
            inHand[name] = e.key
            // Read under the lock: the other notifiers' threads write `attempts` too.
            let attempt = (attempts[e.key] ?? 0) + 1
            cond.unlock()
            var error: String? = nil
            do { try notifier.deliver(e.notification) } catch let err { error = "\(err)" }
            let now = wallClock()
            var changed: NotifierStatus? = nil
            cond.lock()
            var s = statuses[name]!
            let wasFailing = s.failing
            if let error {
                attempts[e.key] = attempt
                s.consecutiveFailures += 1
                s.lastError = error
                s.lastFailure = now
                s.failing = s.consecutiveFailures >= retry.failingAfter
                retryAt[name] = now.addingTimeInterval(retry.backoff(afterFailures: s.consecutiveFailures))
            } else {
                attempts[e.key] = nil
                s.consecutiveFailures = 0
                s.lastSuccess = now
                s.sent += 1
                s.failing = false
                retryAt[name] = nil
            }
            let giveUp = error != nil && attempt >= retry.maxAttempts
            if giveUp { s.gaveUp += 1; attempts[e.key] = nil }
            statuses[name] = s
            // What the dashboard's notifier alerts say changed: failing, its count of failures,
            // or back (`statusVersion`).
            if s.failing || wasFailing { version += 1 }
            if s.failing != wasFailing {
                changed = s
                changed!.pending = outbox.pendingCount(notifier: name)   // the stored status keeps none
            }
            cond.unlock()
            if error == nil {
                markDone(e, outcome: "sent")
                log?.recordDelivery(key: e.key, notifier: name, outcome: "sent", attempt: attempt, error: nil, wall: now)
            } else if giveUp {
                markDone(e, outcome: "gave_up")
                log?.recordDelivery(key: e.key, notifier: name, outcome: "gave_up", attempt: attempt, error: error, wall: now)
            } else {
                log?.recordDelivery(key: e.key, notifier: name, outcome: "failed", attempt: attempt, error: error, wall: now)
            }
            if let error { giveUpWaiting(name, now: now, error: error) }
            if let changed { onStatusChange?(changed) }
        }
    }

    /// After a failure: the notifier's deliveries waiting longer than `retry.maxWait` are given
    /// up (`Outbox.giveUpWaiting`), each logged `expired` with what it waited for (not a
    /// failure of its own: a restart's history does not count it as one).
    private func giveUpWaiting(_ name: String, now: Date, error: String) {
        let given: [String]
        do { given = try outbox.giveUpWaiting(notifier: name, since: now.addingTimeInterval(-retry.maxWait)) } catch {
            onStateProblem?("outbox: the end of \(name)'s deliveries waiting longer than \(Self.hours(retry.maxWait)) is not recorded (\(error)); a restart would deliver them once more")
            return
        }
        guard !given.isEmpty else { return }
        cond.lock()
        var counted: [Int] = []
        for key in given { counted.append(attempts.removeValue(forKey: key) ?? 0) }
        statuses[name]!.gaveUp += given.count
        cond.unlock()
        let why = "waited longer than \(Self.hours(retry.maxWait)) while the notifier failed (last error: \(error))"
        for (key, attempt) in zip(given, counted) {
            log?.recordDelivery(key: key, notifier: name, outcome: "expired", attempt: attempt, error: why, wall: now)
        }
    }

    static func hours(_ seconds: Double) -> String {
        seconds >= 3600 && seconds.truncatingRemainder(dividingBy: 3600) == 0 ? "\(Int(seconds / 3600))h" : "\(Int(seconds))s"
    }

    private func markDone(_ e: OutboxEntry, outcome: String) {
        do { try outbox.markDone(e.key, outcome: outcome) } catch {
            onStateProblem?("outbox: the end of \(e.notifier)'s delivery of \(e.notification.rule) at \(e.notification.site) is not recorded (\(error)); a restart would deliver it once more")
        }
    }
}
