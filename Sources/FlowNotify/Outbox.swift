import Foundation
#if canImport(Glibc)
import Glibc
#endif
import FlowCore
import DequeModule

/// Appends lines to a file and syncs them to disk. Used by the alert log and the outbox.
final class AppendFile: @unchecked Sendable {
    let path: String
    private var fd: Int32
    /// `write(2)` (bytes written, or -1 with `errno` set), unless a test stands in a disk that
    /// takes part of a write, then refuses the rest.
    private let writeCall: (Int32, UnsafeRawPointer?, Int) -> Int

    init(path: String, write: @escaping (Int32, UnsafeRawPointer?, Int) -> Int = { Glibc.write($0, $1, $2) }) throws {
        self.path = path
        writeCall = write
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw NotifyIOError("cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    /// Appends whole lines. A write refused part-way (a full disk) is cut back off the file, so
    /// the next append starts on a line of its own, not after a fragment.
    func append(_ lines: [String], sync: Bool) throws {
        guard !lines.isEmpty else { return }
        var bytes: [UInt8] = []
        for l in lines { bytes += Array(l.utf8); bytes.append(10) }
        let start = lseek(fd, 0, SEEK_END)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { writeCall(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 {
                // Refused, or nothing written and no error (asked again it would say the same,
                // for ever: an I/O error). What was written of this append is cut back.
                let why = String(cString: strerror(n < 0 ? errno : EIO))
                if off > 0, start >= 0 { _ = ftruncate(fd, start) }
                throw NotifyIOError("cannot write \(path): \(why)")
            }
            off += n
        }
        if sync { _ = fsync(fd) }
    }

    /// Syncs what was appended to disk.
    func sync() { if fd >= 0 { _ = fsync(fd) } }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }

    /// Cuts a torn last line (a crash mid-write), so the next append starts on a line of its own.
    static func repairTail(_ path: String) {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty, data.last != 10 else { return }
        let keep = data.lastIndex(of: 10).map { $0 + 1 } ?? 0
        _ = truncate(path, off_t(keep))
    }

    /// Complete lines of a file, empty ones left out (a torn last line, without its newline, is
    /// left out too). Split on the newline byte: splitting the text by `Character` (grapheme
    /// clusters) took 0.4 s of a restart for a 20 MB alert log.
    static func readLines(_ path: String) -> [Substring] {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        let bytes = text.utf8
        var lines: [Substring] = []
        var start = bytes.startIndex, i = start
        while i != bytes.endIndex {
            if bytes[i] == 10 {
                if i != start { lines.append(text[start..<i]) }
                start = bytes.index(after: i)
            }
            i = bytes.index(after: i)
        }
        return lines
    }
}

public struct NotifyIOError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// One notification for one notifier, waiting in the outbox.
public struct OutboxEntry: Sendable, Equatable {
    /// `<notification id>@<notifier>`: the idempotency key of this delivery.
    public var key: String
    public var notifier: String
    public var notification: AlertNotification
}

/// The outbox: a JSON Lines file in the state directory holding every delivery decided and a
/// `done` marker for each one finished. On open, the file is read back: entries without a
/// marker are pending (a crash loses none), and every key ever put is remembered, so putting
/// the same notification again (a restart re-feeding history) adds nothing (sends none twice).
///
///     {"key":"9f..@pager","notification":{...},"notifier":"pager","op":"put"}
///     {"key":"9f..@pager","op":"done","outcome":"sent"}
///
/// Reading it back: each line's `op`, `key` and `notifier` are read in place, and a pending
/// put's notification is decoded only when its notifier comes to deliver it. A restart after a
/// notifier was down for months (74,695 puts pending, 56 MB) decoded every put with
/// `JSONDecoder` first: 4 s of a 7.4 s restart (README, "Measured").
public final class Outbox: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var file: AppendFile
    /// Whether each put and done is synced to disk before the call returns (a replay's
    /// recording directory is not: it is made again by replaying again).
    private let durable: Bool
    private let supersedesRepeats: Bool
    private let wallClock: @Sendable () -> Date
    /// Deliveries not finished, by key.
    private var pending: [String: Pending] = [:]
    /// Each notifier's pending keys in the order put; keys finished since are passed over
    /// when met at the front.
    private var queues: [String: Deque<String>] = [:]
    /// Each notifier's pending deliveries.
    private var counts: [String: Int] = [:]
    /// The pending `repeat` of each alert episode for each notifier (`Outbox.episode`): a
    /// later notification of the episode for that notifier supersedes it. Forgotten when the
    /// repeat is finished: kept, each episode whose last message to a notifier was a repeat
    /// (the pager is not sent resolves) stayed for as long as the service ran, about five a day
    /// through a surge like Boxing Day's.
    private var pendingRepeats: [String: String] = [:]
    /// Told of each delivery superseded (key, notifier), outside the outbox's lock.
    public var onSuperseded: (@Sendable (String, String) -> Void)?
    private var nextSequence = 0
    private var known: Set<String> = []
    /// Keys finished, oldest first (kept for compaction), each with its outcome.
    private var done = DoneKeys()
    /// How many finished keys a compaction keeps (older ones are forgotten).
    public let remember: Int
    /// The count of finished keys at which the running outbox compacts (`compactWhenDue`).
    private var nextCompaction: Int

    /// Finished keys, oldest first, each with how it finished (its last done line's outcome) in
    /// a byte, so a compaction writes each key's own outcome, not `sent` for all.
    struct DoneKeys {
        private(set) var keys: [String] = []
        private var outcomes: [Outcome] = []
        /// The text of each outcome this program does not write (`.other`), by key: none but
        /// in a file edited by hand.
        private var others: [String: String] = [:]

        /// How a delivery finished, as its done line says: `sent`, `gave_up`, `superseded`,
        /// another outcome (its text in `others`), or none written.
        enum Outcome: UInt8 {
            case sent, gaveUp, superseded, other, unrecorded

            init(_ text: String?) {
                switch text {
                case "sent": self = .sent
                case "gave_up": self = .gaveUp
                case "superseded": self = .superseded
                case nil: self = .unrecorded
                default: self = .other
                }
            }
        }

        var count: Int { keys.count }

        /// Lists `key` as finished with `outcome`; returns its place.
        @discardableResult
        mutating func append(_ key: String, _ outcome: String?) -> Int {
            keys.append(key)
            outcomes.append(.unrecorded)
            setOutcome(at: keys.count - 1, outcome)
            return keys.count - 1
        }

        /// Sets the outcome of the finished key at `index` (a key finished again: its last line).
        mutating func setOutcome(at index: Int, _ outcome: String?) {
            let o = Outcome(outcome)
            outcomes[index] = o
            if o == .other { others[keys[index]] = outcome } else if !others.isEmpty { others[keys[index]] = nil }
        }

        /// The outcome's text of the finished key at `index` (nil: none written).
        func outcome(at index: Int) -> String? {
            switch outcomes[index] {
            case .sent: "sent"
            case .gaveUp: "gave_up"
            case .superseded: "superseded"
            case .other: others[keys[index]]
            case .unrecorded: nil
            }
        }

        /// Forgets all but the last `n` finished keys.
        mutating func keepLast(_ n: Int) {
            let drop = max(0, keys.count - n)
            guard drop > 0 else { return }
            if !others.isEmpty { for k in keys[..<drop] { others[k] = nil } }
            keys.removeFirst(drop)
            outcomes.removeFirst(drop)
        }
    }

    /// A delivery not finished: its notification, or the put line it is still to be decoded
    /// from (read back from the file).
    private struct Pending {
        var key: String
        var notifier: String
        var sequence: Int
        var notification: AlertNotification?
        var line: String?
        /// The episode (`Outbox.episode`) this delivery is the pending repeat of.
        var repeatOf: String? = nil
        /// When it started waiting in this run (wall clock): put, or read back when the outbox
        /// was opened (`giveUpWaiting`).
        var since = Date.distantPast
    }

    /// - Parameter supersedesRepeats: a later notification of an alert episode finishes the
    ///   pending `repeat` of that episode for the same notifier (live; a replay's recordings
    ///   keep every notification, whatever the worker's pace).
    /// - Parameter wallClock: when a delivery starts waiting (`giveUpWaiting`).
    public init(directory: String, remember: Int = 200_000, durable: Bool = true, supersedesRepeats: Bool = true,
                wallClock: @escaping @Sendable () -> Date = { Date() }) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/outbox.jsonl"
        self.wallClock = wallClock
        let opened = wallClock()
        self.remember = remember
        nextCompaction = remember + Self.compactionSlack(remember)
        self.durable = durable
        self.supersedesRepeats = supersedesRepeats
        var puts: [String: Pending] = [:]
        var order: [String] = []
        /// Each finished key's place in `done`.
        var doneAt: [String: Int] = [:]
        let decoder = JSONDecoder()
        let keyField = Array(#""key":""#.utf8), opField = Array(#""op":""#.utf8), notifierField = Array(#""notifier":""#.utf8)
        let outcomeField = Array(#""outcome":""#.utf8)
        for line in AppendFile.readLines(path) {
            // op, key, and a put's notifier or a done's outcome in place (nil when absent or
            // escaped: then decoded in full).
            let raw = line.utf8.withContiguousStorageIfAvailable { b -> (op: String, key: String, notifier: String?, outcome: String?)? in
                guard let op = JSONText.rawStringText(b, opField), let key = JSONText.rawStringText(b, keyField) else { return nil }
                return op == "done" ? (op, key, nil, JSONText.rawStringText(b, outcomeField)) : (op, key, JSONText.rawStringText(b, notifierField), nil)
            } ?? nil
            var entry: Pending
            let op: String
            let outcome: String?
            if let raw, raw.op == "done" ? raw.outcome != nil : raw.notifier != nil {
                op = raw.op
                outcome = raw.outcome
                entry = Pending(key: raw.key, notifier: raw.notifier ?? "", sequence: 0, notification: nil, line: op == "put" ? String(line) : nil,
                                since: opened)
            } else {
                guard let rec = try? decoder.decode(Record.self, from: Data(line.utf8)) else { continue }
                op = rec.op
                outcome = rec.outcome
                guard op != "put" || (rec.notification != nil && rec.notifier != nil) else { continue }
                entry = Pending(key: rec.key, notifier: rec.notifier ?? "", sequence: 0, notification: rec.notification, line: nil, since: opened)
            }
            switch op {
            case "put":
                if let first = puts[entry.key] { entry.sequence = first.sequence } else {
                    entry.sequence = order.count
                    order.append(entry.key)
                }
                puts[entry.key] = entry
                known.insert(entry.key)
            case "done":
                // A key finished twice (superseded while in hand, then sent) ends as its last
                // line says.
                if let i = doneAt[entry.key] { done.setOutcome(at: i, outcome) } else { doneAt[entry.key] = done.append(entry.key, outcome) }
                known.insert(entry.key)
            default: continue
            }
        }
        AppendFile.repairTail(path)
        file = try AppendFile(path: path)
        var superseded: [String] = []
        let kindField = Array(#""kind":""#.utf8), ruleField = Array(#""rule":""#.utf8)
        let siteField = Array(#""site":""#.utf8), sinceField = Array(#""since":""#.utf8), itemsField = Array(#""items":["#.utf8)
        for key in order where doneAt[key] == nil {
            let p = puts[key]!
            pending[key] = p
            queues[p.notifier, default: []].append(key)
            counts[p.notifier, default: 0] += 1
            // The episode and kind, in place. A digest (an `items` array present: its items hold
            // the same fields, met first) is decoded: which lead it bundles for, and whether
            // its items are all reminders (`Self.supersession`).
            let digest = p.notification == nil && p.line!.utf8.withContiguousStorageIfAvailable { JSONText.contains($0, itemsField) } == true
            if let n = p.notification ?? (digest ? decodedNotification(key) : nil) {
                let (episode, reminder) = Self.supersession(n, notifier: p.notifier)
                superseded += supersedeRepeat(episode, by: key, isRepeat: reminder)
            } else if !digest, let labels = p.line!.utf8.withContiguousStorageIfAvailable({ b -> (kind: String, rule: String, site: String, since: String)? in
                guard let kind = JSONText.rawStringText(b, kindField), let rule = JSONText.rawStringText(b, ruleField),
                      let site = JSONText.rawStringText(b, siteField), let since = JSONText.rawStringText(b, sinceField) else { return nil }
                return (kind, rule, site, since)
            }) ?? nil {
                superseded += supersedeRepeat(Self.episode(p.notifier, labels.rule, labels.site, labels.since), by: key,
                                              isRepeat: labels.kind == NotificationKind.repeat.rawValue)
            }
        }
        nextSequence = order.count
        // Repeats superseded in a file written before this rule: finished now.
        try file.append(superseded.map { Self.doneLine($0, outcome: "superseded") }, sync: durable)
        if done.count > remember || (done.count > 10_000 && done.count > 4 * pending.count) { try compact() }
    }

    struct Record: Decodable {
        var op: String
        var key: String
        var notifier: String?
        var outcome: String?
        var notification: AlertNotification?
    }

    public static func key(_ n: AlertNotification, _ notifier: String) -> String { n.id + "@" + notifier }

    /// An alert episode as one notifier sees it: the notifier, rule, site and the episode's
    /// start (`since`, RFC 3339).
    static func episode(_ notifier: String, _ rule: String, _ site: String, _ since: String) -> String {
        notifier + "\u{1}" + rule + "\u{1}" + site + "\u{1}" + since
    }

    /// What a pending delivery of `n` to `notifier` may supersede and be superseded within (its
    /// episode), and whether it is a reminder (a later delivery of the episode supersedes it):
    /// - a message of an alert: the alert's episode (rule, site, `since`); a `repeat` is a reminder;
    /// - a digest (the per-lead budget's bundle): every digest for the same lead; one whose items
    ///   are all repeats is a reminder. A notifier down for days had a digest of reminders
    ///   queued for each budget window, to be sent all at once when it came back (2,877 a
    ///   notifier after a 120-day journal); one holding a firing, escalation or resolve message
    ///   is never dropped.
    static func supersession(_ n: AlertNotification, notifier: String) -> (episode: String, reminder: Bool) {
        if let items = n.items {
            return (notifier + "\u{1}digest\u{1}" + (n.lead?.id ?? ""), !items.isEmpty && items.allSatisfy { $0.kind == .repeat })
        }
        return (episode(notifier, n.rule, n.site, RFC3339.format(n.since)), n.kind == .repeat)
    }

    /// A done line: `sent`, `gave_up` or `superseded` (no outcome: as a line without one was read).
    static func doneLine(_ key: String, outcome: String?) -> String {
        guard let outcome else { return "{\"key\":\(JSONText.quote(key)),\"op\":\"done\"}" }
        return "{\"key\":\(JSONText.quote(key)),\"op\":\"done\",\"outcome\":\(JSONText.quote(outcome))}"
    }

    /// A delivery `key` of `episode` was put (under the lock): the episode's pending repeat
    /// for that notifier, if any, is superseded and finished (its key returned), and `key`
    /// becomes the pending repeat if it is one. A notifier down for days otherwise kept an hourly
    /// reminder of every alert queued, to be sent all at once when it came back (74,695
    /// deliveries pending after a 120-day journal); a reminder says nothing a later message of
    /// the same episode to the same notifier does not.
    private func supersedeRepeat(_ episode: String, by key: String, isRepeat: Bool) -> [String] {
        guard supersedesRepeats else { return [] }
        var finished: [String] = []
        if let old = pendingRepeats[episode], old != key, let p = pending.removeValue(forKey: old) {
            counts[p.notifier, default: 0] -= 1
            done.append(old, "superseded")
            finished.append(old)
            pruneQueue(p.notifier)
        }
        if isRepeat {
            pendingRepeats[episode] = key
            pending[key]?.repeatOf = episode
        } else {
            pendingRepeats[episode] = nil
        }
        return finished
    }

    /// A pending delivery finished (under the lock): it is no longer its episode's pending repeat.
    private func forgetRepeat(_ p: Pending) {
        if let ep = p.repeatOf, pendingRepeats[ep] == p.key { pendingRepeats[ep] = nil }
    }

    /// Drops the finished keys from `notifier`'s queue once they are most of it (under the lock).
    /// The worker passes over finished keys at the front; a repeat superseded behind a delivery
    /// that keeps failing stayed in the queue until the front reached it, so a notifier down for
    /// a winter kept a key for every hourly reminder of every alert while it was down.
    private func pruneQueue(_ notifier: String) {
        guard let q = queues[notifier], q.count > 2 * (counts[notifier] ?? 0) + 64 else { return }
        queues[notifier]!.removeAll { pending[$0] == nil }
    }

    /// The episodes with a pending repeat remembered (tests).
    var pendingRepeatCount: Int { lock.withLock { pendingRepeats.count } }
    /// The keys in `notifier`'s queue, finished ones not yet passed over included (tests).
    func queuedKeyCount(notifier: String) -> Int { lock.withLock { queues[notifier]?.count ?? 0 } }

    /// A put line, keys sorted as `Record` has them (the notification encoded once for all
    /// its notifiers).
    static func putLine(key: String, notifier: String, notificationJSON: String) -> String {
        "{\"key\":\(JSONText.quote(key)),\"notification\":\(notificationJSON),\"notifier\":\(JSONText.quote(notifier)),\"op\":\"put\"}"
    }

    /// Whether a delivery of `n` to each of `notifiers` was ever put (so it was decided, and
    /// logged, in an earlier run).
    public func knowsAll(_ n: AlertNotification, notifiers: [String]) -> Bool {
        lock.withLock { notifiers.allSatisfy { known.contains(Self.key(n, $0)) } }
    }

    /// Puts a notification for each notifier, unless that delivery was ever put before.
    /// Returns the entries added. Synced to disk before returning (when durable).
    ///
    /// The entries are pending (the worker delivers them) even when the file cannot take them (a
    /// full disk: the error is thrown after): they are then delivered in this run, though a
    /// restart would not know them. Dropped, as they were, nobody was paged and nothing said so.
    @discardableResult
    public func put(_ n: AlertNotification, notifiers: [String]) throws -> [OutboxEntry] {
        var superseded: [(key: String, notifier: String)] = []
        defer { if let tell = onSuperseded { for s in superseded { tell(s.key, s.notifier) } } }
        return try lock.withLock {
            var added: [OutboxEntry] = []
            var lines: [String] = []
            var json: String?
            let now = wallClock()
            for name in notifiers {
                let k = Self.key(n, name)
                guard !known.contains(k) else { continue }
                if json == nil { json = try NotificationJSON.text(n) }
                lines.append(Self.putLine(key: k, notifier: name, notificationJSON: json!))
                added.append(OutboxEntry(key: k, notifier: name, notification: n))
            }
            for a in added {
                known.insert(a.key)
                pending[a.key] = Pending(key: a.key, notifier: a.notifier, sequence: nextSequence, notification: a.notification, line: nil,
                                         since: now)
                nextSequence += 1
                queues[a.notifier, default: []].append(a.key)
                counts[a.notifier, default: 0] += 1
                let (episode, reminder) = Self.supersession(n, notifier: a.notifier)
                for old in supersedeRepeat(episode, by: a.key, isRepeat: reminder) {
                    lines.append(Self.doneLine(old, outcome: "superseded"))
                    superseded.append((old, a.notifier))
                }
            }
            try file.append(lines, sync: durable)
            if !superseded.isEmpty { compactWhenDue() }
            return added
        }
    }

    /// Marks a delivery finished (`sent`, or `gave_up`), the outcome a compaction keeps. Synced
    /// to disk before returning (when durable).
    ///
    /// Finished in memory even when the file cannot take it (the error is thrown after): left
    /// pending, a sent notification was delivered again at once, and again, for as long as the
    /// disk was full. A restart delivers it once more (the file holds its `put`, not its end).
    public func markDone(_ key: String, outcome: String = "sent") throws {
        try lock.withLock {
            // A delivery superseded while in hand is finished already: its line says it was
            // sent after all, its key is not listed twice (its outcome is this one, as its last
            // line says when read back; found near the end, where it was superseded).
            if let p = pending.removeValue(forKey: key) {
                counts[p.notifier, default: 0] -= 1
                forgetRepeat(p)
                done.append(key, outcome)
            } else if known.contains(key), let i = done.keys.lastIndex(of: key) {
                done.setOutcome(at: i, outcome)
            }
            try file.append([Self.doneLine(key, outcome: outcome)], sync: durable)
            compactWhenDue()
        }
    }

    /// Gives up `notifier`'s deliveries that have waited since before `cutoff` (in this run: one
    /// read back when the outbox was opened waits from then), as `gave_up`; returns their keys,
    /// oldest first. What bounds a failing notifier's backlog (`DeliveryWorker`): each delivery
    /// waited its turn for 50 attempts, about six given up a day at the longest backoff, while
    /// the alerts put more (8,718 waiting after 120 days of a surge's pace, README "Memory over
    /// a winter"), all of them kept in memory and sent at once, days late, when it came back.
    /// Synced to disk before returning (when durable); finished in memory even when the file
    /// cannot take it (the error is thrown after), as `markDone` is.
    @discardableResult
    public func giveUpWaiting(notifier: String, since cutoff: Date) throws -> [String] {
        try lock.withLock {
            // The queue is in the order put, so in the order each started waiting.
            var given: [String] = []
            for key in queues[notifier] ?? [] {
                guard let p = pending[key] else { continue }   // finished, passed over later
                guard p.since < cutoff else { break }
                pending[key] = nil
                counts[notifier, default: 0] -= 1
                forgetRepeat(p)
                done.append(key, "gave_up")
                given.append(key)
            }
            guard !given.isEmpty else { return given }
            pruneQueue(notifier)
            try file.append(given.map { Self.doneLine($0, outcome: "gave_up") }, sync: durable)
            compactWhenDue()
            return given
        }
    }

    /// While running, too: past `remember` finished keys by a quarter, the file is compacted
    /// (memory and file bounded however long the service runs; before, only a restart did, so
    /// a winter's run kept every key it finished and the file every line). A compaction that
    /// fails (a full disk) leaves the file as it was, to try again a quarter later.
    private func compactWhenDue() {
        guard done.count >= nextCompaction else { return }
        try? compact()
        nextCompaction = done.count + Self.compactionSlack(remember)
    }

    static func compactionSlack(_ remember: Int) -> Int { max(1, remember / 4) }

    /// The oldest pending delivery for `notifier`, its notification decoded if it was read
    /// back from the file.
    public func firstPending(notifier: String) -> OutboxEntry? {
        lock.withLock {
            while let key = queues[notifier]?.first {
                if let n = decodedNotification(key) { return OutboxEntry(key: key, notifier: notifier, notification: n) }
                queues[notifier]!.removeFirst()
            }
            return nil
        }
    }

    /// How many deliveries are pending, for `notifier` or for all.
    public func pendingCount(notifier: String? = nil) -> Int {
        lock.withLock { notifier.map { counts[$0] ?? 0 } ?? pending.count }
    }

    /// The keys of `notifier`'s pending deliveries, oldest first.
    public func pendingKeys(notifier: String) -> [String] {
        lock.withLock { queues[notifier].map { $0.filter { pending[$0] != nil } } ?? [] }
    }

    /// The pending deliveries, for `notifier` or for all, oldest first, each decoded.
    public func pendingEntries(notifier: String? = nil) -> [OutboxEntry] {
        lock.withLock {
            var entries: [(Int, OutboxEntry)] = []
            for name in notifier.map({ [$0] }) ?? Array(queues.keys) {
                for key in queues[name] ?? [] {
                    if let n = decodedNotification(key) { entries.append((pending[key]!.sequence, OutboxEntry(key: key, notifier: name, notification: n))) }
                }
            }
            return entries.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The notification of the pending delivery `key` (under the lock), decoded from its put
    /// line if it was read back and not yet decoded; nil if it is not pending. A put whose
    /// notification cannot be decoded is dropped and forgotten (so the same notification put
    /// again is delivered), as a line that cannot be read was before.
    private func decodedNotification(_ key: String) -> AlertNotification? {
        guard var p = pending[key] else { return nil }
        if let n = p.notification { return n }
        p.notification = p.line.flatMap { try? JSONDecoder().decode(Record.self, from: Data($0.utf8)) }?.notification
        p.line = nil
        guard let n = p.notification else {
            pending[key] = nil
            counts[p.notifier, default: 0] -= 1
            forgetRepeat(p)
            known.remove(key)
            return nil
        }
        pending[key] = p
        return n
    }

    public func contains(_ key: String) -> Bool { lock.withLock { known.contains(key) } }

    /// Rewrites the file with the pending entries and the most recent finished keys, each with
    /// its outcome. A pending put read back and not decoded yet is written as it was read.
    ///
    /// Written a piece at a time (`compactionPiece` bytes), and the keys forgotten are taken out
    /// of `known` in place: the whole file's lines as strings, then as one buffer, then a new set
    /// of every key, came to some 50 MB at a time for 200,000 keys, and the allocator kept most
    /// of it after each compaction of a running service (each ran on whichever thread finished
    /// the key that made it due): a replay of 720 days of the Boxing Day surge went from 66 MB
    /// before its first compaction to 172 MB after its third.
    private func compact() throws {
        let tmp = path + ".tmp"
        try? FileManager.default.removeItem(atPath: tmp)
        let f = try AppendFile(path: tmp)
        var piece: [String] = []
        var bytes = 0
        largestCompactionWrite = 0
        func add(_ line: String) throws {
            piece.append(line)
            bytes += line.utf8.count + 1
            if bytes >= Self.compactionPiece { try flush() }
        }
        func flush() throws {
            try f.append(piece, sync: false)
            largestCompactionWrite = max(largestCompactionWrite, bytes)
            piece.removeAll(keepingCapacity: true)
            bytes = 0
        }
        for i in max(0, done.count - remember)..<done.count { try add(Self.doneLine(done.keys[i], outcome: done.outcome(at: i))) }
        for p in pending.values.sorted(by: { $0.sequence < $1.sequence }) {
            if let line = p.line {
                try add(line)
            } else if let n = p.notification {
                try add(Self.putLine(key: p.key, notifier: p.notifier, notificationJSON: NotificationJSON.line(n)))
            }
        }
        try flush()
        f.sync()
        f.close()
        guard rename(tmp, path) == 0 else { throw NotifyIOError("cannot replace \(path)") }
        file.close()
        file = try AppendFile(path: path)
        // `known` is the finished and the pending keys: the finished keys let go leave it.
        for k in done.keys[..<max(0, done.count - remember)] where pending[k] == nil { known.remove(k) }
        done.keepLast(remember)
    }

    /// The most bytes a compaction writes at once.
    static let compactionPiece = 256 << 10
    /// The most bytes the last compaction wrote at once (tests).
    private(set) var largestCompactionWrite = 0

    public func close() { lock.withLock { file.close() } }
}

/// The append-only alert log (JSON Lines): every transition, every notification with the
/// notifiers it was routed to, every acknowledgement and silence, every delivery outcome.
/// Lines already in the file when it is opened are not written again (a restart re-feeding
/// history); they are remembered, by hash, until the restart has caught up
/// (`forgetEarlierLines`).
///
///     {"type":"transition","transition":{...AlertTransition.jsonLine...}}
///     {"type":"notification","notifiers":["pager"],"notification":{...}}
///     {"type":"ack","rule":"ga_occupancy","site":"RWH","ack":{"by":...,"at":...,"note":...,"expires":...}}
///     {"type":"silence","silence":{...}}
///     {"type":"delivery","key":"..","notifier":"pager","outcome":"failed","attempt":2,"error":"..","wall":".."}
public final class AlertLog: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private let file: AppendFile
    /// The FNV-1a hash of each line the file held when it was opened (delivery lines apart):
    /// what a restart re-feeding its history would write again. The lines of this run are not
    /// kept: nothing decides the same line twice in one run, and keeping each (its hash as hex
    /// text, about 90 bytes) grew the service by every transition and notification it logged,
    /// 255 lines and about 23 KB a day through a surge like Boxing Day's, for as long as it ran.
    private var earlier: Set<UInt64> = []

    public convenience init(path: String) throws {
        try self.init(path: path, existing: AppendFile.readLines(path))
    }

    /// `existing`: the log's complete lines as they are (`AppendFile.readLines(path)`), read
    /// once by a caller that also restores the last run from them (`readActions`,
    /// `readDeliveryHistory`).
    init(path: String, existing: [Substring]) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        earlier.reserveCapacity(existing.count)
        for line in existing where !line.hasPrefix("{\"type\":\"delivery\"") { earlier.insert(StableHash.fnv1a64Value(line.utf8)) }
        AppendFile.repairTail(path)
        file = try AppendFile(path: path)
    }

    /// Said when a line cannot be written (a full disk); the line is then not taken as written.
    public var onWriteProblem: (@Sendable (String) -> Void)?

    private func write(_ line: String, dedup: Bool = true) {
        let failure: String? = lock.withLock {
            if dedup && !earlier.isEmpty && earlier.contains(StableHash.fnv1a64Value(line.utf8)) { return nil }
            do { try file.append([line], sync: false) } catch {
                return "notification log: a line is not written (\(error))"
            }
            return nil
        }
        if let failure { onWriteProblem?(failure) }
    }

    /// Forgets the lines the file held when it was opened: a restart calls it once its catch-up
    /// has re-fed the recovered history (`NotificationService.catchUp`), after which nothing
    /// decides those lines again (the live clock is past them).
    public func forgetEarlierLines() {
        lock.withLock { earlier = [] }
    }

    /// How many lines' hashes are kept (the file's when opened, until `forgetEarlierLines`).
    var rememberedLineCount: Int { lock.withLock { earlier.count } }

    private static func json<T: Encodable>(_ v: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    public func record(_ t: AlertTransition) { write("{\"type\":\"transition\",\"transition\":\(t.jsonLine)}") }

    public func record(_ n: AlertNotification, notifiers: [String]) {
        write("{\"type\":\"notification\",\"notifiers\":\(Self.json(notifiers)),\"notification\":\(NotificationJSON.line(n))}")
    }

    public func recordAck(rule: String, site: String, _ a: Acknowledgement) { write(Self.ackLine(rule: rule, site: site, a)) }

    public func record(_ s: Silence) { write(Self.silenceLine(s)) }

    /// An acknowledgement's line, and a silence's, as the log writes them (also `redact`'s, so
    /// that a redacted line is the one a restart would write: `NotificationLogRedaction`).
    static func ackLine(rule: String, site: String, _ a: Acknowledgement) -> String {
        "{\"type\":\"ack\",\"rule\":\(JSONText.quote(rule)),\"site\":\(JSONText.quote(site)),\"ack\":\(json(a))}"
    }
    static func silenceLine(_ s: Silence) -> String { "{\"type\":\"silence\",\"silence\":\(json(s))}" }

    public func recordDelivery(key: String, notifier: String, outcome: String, attempt: Int, error: String?, wall: Date) {
        let w = RFC3339.format(EventTime(wall))
        write("{\"type\":\"delivery\",\"key\":\(JSONText.quote(key)),\"notifier\":\(JSONText.quote(notifier)),\"outcome\":\(JSONText.quote(outcome)),"
              + "\"attempt\":\(attempt),\"error\":\(error.map(JSONText.quote) ?? "null"),\"wall\":\"\(w)\"}", dedup: false)
    }

    public func close() { lock.withLock { file.close() } }

    /// Each notifier's deliveries recorded in a log (for a restart; `DeliveryHistory`), read in
    /// order. `failingAfter`: the failures in a row that make a notifier failing.
    ///
    /// A winter's log holds a delivery line for every attempt (a notifier down for a month,
    /// retried every 5 minutes: some 9,000 lines). Decoding each with `JSONDecoder` took 5 s
    /// for 100,000 lines; the fields the counts need (key, notifier, outcome, attempt) are read
    /// in place from the line as `recordDelivery` writes it, and only the few lines whose time
    /// or error is kept (each notifier's last success, last failure, and the failure that made
    /// it failing) are decoded in full. A line with an escape in those fields is decoded in full.
    public static func readDeliveryHistory(_ path: String, failingAfter: Int) -> [String: DeliveryHistory] {
        readDeliveryHistory(AppendFile.readLines(path), failingAfter: failingAfter)
    }

    /// The same from the log's lines (`AppendFile.readLines`).
    static func readDeliveryHistory(_ lines: [Substring], failingAfter: Int) -> [String: DeliveryHistory] {
        struct DeliveryLine: Decodable { var key: String; var notifier: String; var outcome: String; var attempt: Int; var error: String?; var wall: String }
        struct Tally { var history = DeliveryHistory(); var success: Int?; var failure: Int?; var failingFrom: Int? }
        var tallies: [String: Tally] = [:]
        let d = JSONDecoder()
        let keyField = Array("\"key\":\"".utf8), notifierField = Array("\"notifier\":\"".utf8)
        let outcomeField = Array("\"outcome\":\"".utf8), attemptField = Array("\"attempt\":".utf8)
        for (index, line) in lines.enumerated() where line.hasPrefix("{\"type\":\"delivery\"") {
            var fields: (key: String, notifier: String, outcome: String, attempt: Int)
            let raw = line.utf8.withContiguousStorageIfAvailable { b -> (String, String, String, Int)? in
                guard let key = JSONText.rawStringText(b, keyField), let notifier = JSONText.rawStringText(b, notifierField),
                      let outcome = JSONText.rawStringText(b, outcomeField), let attempt = JSONText.rawIntField(b, attemptField) else { return nil }
                return (key, notifier, outcome, attempt)
            }
            if let raw = raw ?? nil {
                fields = raw
            } else if let r = try? d.decode(DeliveryLine.self, from: Data(line.utf8)) {
                fields = (r.key, r.notifier, r.outcome, r.attempt)
            } else {
                continue
            }
            // Taken out and put back: a copy left in the dictionary made every change of the
            // attempts copy them.
            var t = tallies.removeValue(forKey: fields.notifier) ?? Tally()
            switch fields.outcome {
            case "sent":
                t.history.consecutiveFailures = 0
                t.failingFrom = nil
                t.success = index
                t.history.attempts[fields.key] = nil
            case "failed", "gave_up":
                t.history.consecutiveFailures += 1
                if t.history.consecutiveFailures == failingAfter { t.failingFrom = index }
                t.failure = index
                t.history.attempts[fields.key] = fields.outcome == "failed" ? fields.attempt : nil
            case "expired":
                t.history.attempts[fields.key] = nil   // given up unattempted (`DeliveryWorker.giveUpWaiting`)
            default:
                break
            }
            tallies[fields.notifier] = t
        }
        func decoded(_ index: Int?) -> DeliveryLine? {
            index.flatMap { try? d.decode(DeliveryLine.self, from: Data(lines[$0].utf8)) }
        }
        func wall(_ r: DeliveryLine?) -> Date? {
            r.flatMap { RFC3339.parse($0.wall) }.map(Date.init)
        }
        return tallies.mapValues { t in
            var h = t.history
            let failure = decoded(t.failure)
            h.lastError = failure?.error
            h.lastFailure = wall(failure)
            h.lastSuccess = wall(decoded(t.success))
            h.failingSince = wall(decoded(t.failingFrom))
            return h
        }
    }

    /// Operator actions recorded in a log's lines (`AppendFile.readLines`; for a restart):
    /// acknowledgements in order, and the last version of each silence.
    static func readActions(_ lines: [Substring]) -> (acks: [(rule: String, site: String, ack: Acknowledgement)], silences: [Silence]) {
        struct AckLine: Decodable { var rule: String; var site: String; var ack: Acknowledgement }
        struct SilenceLine: Decodable { var silence: Silence }
        var acks: [(String, String, Acknowledgement)] = []
        var silences: [String: Silence] = [:]
        var order: [String] = []
        let d = JSONDecoder()
        for line in lines {
            if line.hasPrefix("{\"type\":\"ack\""), let a = try? d.decode(AckLine.self, from: Data(line.utf8)) {
                acks.append((a.rule, a.site, a.ack))
            } else if line.hasPrefix("{\"type\":\"silence\""), let s = try? d.decode(SilenceLine.self, from: Data(line.utf8)) {
                if silences[s.silence.id] == nil { order.append(s.silence.id) }
                silences[s.silence.id] = s.silence
            }
        }
        return (acks.map { (rule: $0.0, site: $0.1, ack: $0.2) }, order.compactMap { silences[$0] })
    }
}
