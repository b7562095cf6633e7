import Foundation
#if canImport(Glibc)
import Glibc
#endif
import FlowCore

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
///     {"op":"put","key":"9f..@pager","notifier":"pager","notification":{...}}
///     {"op":"done","key":"9f..@pager","outcome":"sent"}
public final class Outbox: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var file: AppendFile
    private var pending: [OutboxEntry] = []
    private var known: Set<String> = []
    /// Keys finished, oldest first (kept for compaction).
    private var doneOrder: [String] = []
    /// How many finished keys a compaction keeps (older ones are forgotten).
    public let remember: Int

    public init(directory: String, remember: Int = 200_000) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/outbox.jsonl"
        self.remember = remember
        var puts: [String: OutboxEntry] = [:]
        var order: [String] = []
        var done = Set<String>()
        let decoder = JSONDecoder()
        for line in AppendFile.readLines(path) {
            guard let rec = try? decoder.decode(Record.self, from: Data(line.utf8)) else { continue }
            switch rec.op {
            case "put":
                guard let n = rec.notification, let notifier = rec.notifier else { continue }
                if puts[rec.key] == nil { order.append(rec.key) }
                puts[rec.key] = OutboxEntry(key: rec.key, notifier: notifier, notification: n)
                known.insert(rec.key)
            case "done":
                if done.insert(rec.key).inserted { doneOrder.append(rec.key) }
                known.insert(rec.key)
            default: continue
            }
        }
        pending = order.filter { !done.contains($0) }.compactMap { puts[$0] }
        AppendFile.repairTail(path)
        file = try AppendFile(path: path)
        if doneOrder.count > remember || (doneOrder.count > 10_000 && doneOrder.count > 4 * pending.count) { try compact() }
    }

    struct Record: Codable {
        var op: String
        var key: String
        var notifier: String?
        var outcome: String?
        var notification: AlertNotification?
    }

    public static func key(_ n: AlertNotification, _ notifier: String) -> String { n.id + "@" + notifier }

    /// Whether a delivery of `n` to each of `notifiers` was ever put (so it was decided, and
    /// logged, in an earlier run).
    public func knowsAll(_ n: AlertNotification, notifiers: [String]) -> Bool {
        lock.withLock { notifiers.allSatisfy { known.contains(Self.key(n, $0)) } }
    }

    /// Puts a notification for each notifier, unless that delivery was ever put before.
    /// Returns the entries added. Synced to disk before returning.
    ///
    /// The entries are pending (the worker delivers them) even when the file cannot take them (a
    /// full disk: the error is thrown after): they are then delivered in this run, though a
    /// restart would not know them. Dropped, as they were, nobody was paged and nothing said so.
    @discardableResult
    public func put(_ n: AlertNotification, notifiers: [String]) throws -> [OutboxEntry] {
        try lock.withLock {
            var added: [OutboxEntry] = []
            var lines: [String] = []
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for name in notifiers {
                let k = Self.key(n, name)
                guard !known.contains(k) else { continue }
                let rec = Record(op: "put", key: k, notifier: name, outcome: nil, notification: n)
                lines.append(String(decoding: try e.encode(rec), as: UTF8.self))
                added.append(OutboxEntry(key: k, notifier: name, notification: n))
            }
            for a in added { known.insert(a.key); pending.append(a) }
            try file.append(lines, sync: true)
            return added
        }
    }

    /// Marks a delivery finished (`sent`, or `gave_up`). Synced to disk before returning.
    ///
    /// Finished in memory even when the file cannot take it (the error is thrown after): left
    /// pending, a sent notification was delivered again at once, and again, for as long as the
    /// disk was full. A restart delivers it once more (the file holds its `put`, not its end).
    public func markDone(_ key: String, outcome: String = "sent") throws {
        try lock.withLock {
            pending.removeAll { $0.key == key }
            doneOrder.append(key)
            let line = "{\"key\":\(JSONText.quote(key)),\"op\":\"done\",\"outcome\":\(JSONText.quote(outcome))}"
            try file.append([line], sync: true)
        }
    }

    public func pendingEntries(notifier: String? = nil) -> [OutboxEntry] {
        lock.withLock { notifier.map { n in pending.filter { $0.notifier == n } } ?? pending }
    }

    public func contains(_ key: String) -> Bool { lock.withLock { known.contains(key) } }

    /// Rewrites the file with the pending entries and the most recent finished keys.
    private func compact() throws {
        let keep = doneOrder.suffix(remember)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines: [String] = keep.map { "{\"key\":\(JSONText.quote($0)),\"op\":\"done\",\"outcome\":\"sent\"}" }
        for p in pending {
            lines.append(String(decoding: try e.encode(Record(op: "put", key: p.key, notifier: p.notifier, outcome: nil, notification: p.notification)),
                                as: UTF8.self))
        }
        let tmp = path + ".tmp"
        try? FileManager.default.removeItem(atPath: tmp)
        let f = try AppendFile(path: tmp)
        try f.append(lines, sync: true)
        f.close()
        guard rename(tmp, path) == 0 else { throw NotifyIOError("cannot replace \(path)") }
        file.close()
        file = try AppendFile(path: path)
        doneOrder = Array(keep)
        known = Set(keep).union(pending.map(\.key))
    }

    public func close() { lock.withLock { file.close() } }
}

/// The append-only alert log (JSON Lines): every transition, every notification with the
/// notifiers it was routed to, every acknowledgement and silence, every delivery outcome.
/// Lines already in the file are not written again (a restart re-feeding history).
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
    private var seen: Set<String> = []

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
        for line in existing where !line.hasPrefix("{\"type\":\"delivery\"") { seen.insert(StableHash.fnv1a64(String(line))) }
        AppendFile.repairTail(path)
        file = try AppendFile(path: path)
    }

    /// Said when a line cannot be written (a full disk); the line is then not taken as written.
    public var onWriteProblem: (@Sendable (String) -> Void)?

    private func write(_ line: String, dedup: Bool = true) {
        let failure: String? = lock.withLock {
            let hash = StableHash.fnv1a64(line)
            if dedup && !seen.insert(hash).inserted { return nil }
            do { try file.append([line], sync: false) } catch {
                if dedup { seen.remove(hash) }
                return "notification log: a line is not written (\(error))"
            }
            return nil
        }
        if let failure { onWriteProblem?(failure) }
    }

    private static func json<T: Encodable>(_ v: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    public func record(_ t: AlertTransition) { write("{\"type\":\"transition\",\"transition\":\(t.jsonLine)}") }

    public func record(_ n: AlertNotification, notifiers: [String]) {
        write("{\"type\":\"notification\",\"notifiers\":\(Self.json(notifiers)),\"notification\":\(NotificationJSON.line(n))}")
    }

    public func recordAck(rule: String, site: String, _ a: Acknowledgement) {
        write("{\"type\":\"ack\",\"rule\":\(JSONText.quote(rule)),\"site\":\(JSONText.quote(site)),\"ack\":\(Self.json(a))}")
    }

    public func record(_ s: Silence) { write("{\"type\":\"silence\",\"silence\":\(Self.json(s))}") }

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
                guard let key = rawString(b, keyField), let notifier = rawString(b, notifierField),
                      let outcome = rawString(b, outcomeField), let attempt = JSONText.rawIntField(b, attemptField) else { return nil }
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

    /// The text of the string field that `field` (`"name":"`) opens in `line`, nil if absent or
    /// escaped (`JSONText.rawStringField`).
    private static func rawString(_ line: UnsafeBufferPointer<UInt8>, _ field: [UInt8]) -> String? {
        JSONText.rawStringField(line, field).map { String(decoding: UnsafeBufferPointer(rebasing: line[$0]), as: UTF8.self) }
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
