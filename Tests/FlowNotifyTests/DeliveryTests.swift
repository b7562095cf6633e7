import Testing
import Foundation
@testable import FlowCore
@testable import FlowNotify

func sampleNotifications(_ count: Int) throws -> [AlertNotification] {
    let (system, n) = try bundled()
    var p = NotificationPolicy(system: system, config: n)
    var out: [AlertNotification] = []
    let rules = ["ga_occupancy", "escalation_share", "dtoc_share", "ed_over_12h", "handover_queue", "handover_longest_wait"]
    for (i, rule) in rules.prefix(count).enumerated() {
        out += p.handle(transition(rule, ["RWH", "RWG", "RQW"][i % 3], .warning, .firing, at: "2026-01-20T10:00:00Z"))
    }
    return out
}

/// A notifier that fails its first `failures` calls, then records.
final class FlakyNotifier: Notifier, @unchecked Sendable {
    let name: String
    private let lock = NSLock()
    private var failures: Int
    private var _delivered: [String] = []
    private var _calls = 0
    init(name: String, failures: Int) { self.name = name; self.failures = failures }
    func deliver(_ n: AlertNotification) throws {
        try lock.withLock {
            _calls += 1
            if failures > 0 { failures -= 1; throw NotifyIOError("connection refused") }
            _delivered.append(n.id)
        }
    }
    var delivered: [String] { lock.withLock { _delivered } }
    var calls: Int { lock.withLock { _calls } }
}

@Suite(.serialized) struct OutboxTests {
    @Test func survivesARestartWithNoLossAndNoDuplicate() throws {
        let dir = TempDir()
        let ns = try sampleNotifications(3)
        #expect(ns.count == 3)
        // First run: three notifications for two notifiers; one delivery finished, then a "crash".
        do {
            let box = try Outbox(directory: dir.path)
            for n in ns { try box.put(n, notifiers: ["pager", "teams"]) }
            #expect(box.pendingEntries().count == 6)
            try box.markDone(Outbox.key(ns[0], "pager"))
            // no close(): the process dies here
        }
        // A torn last line (power cut mid-write) is ignored.
        let h = FileHandle(forWritingAtPath: dir.file("outbox.jsonl"))!
        h.seekToEndOfFile()
        h.write("{\"op\":\"done\",\"key\":\"".data(using: .utf8)!)
        h.closeFile()
        // Second run: the five unfinished are pending; the history re-fed puts nothing twice.
        let box = try Outbox(directory: dir.path)
        #expect(box.pendingEntries().count == 5)
        #expect(box.pendingEntries(notifier: "pager").map(\.notification.id) == [ns[1].id, ns[2].id])
        for n in ns { #expect(try box.put(n, notifiers: ["pager", "teams"]).isEmpty) }
        #expect(box.pendingEntries().count == 5)
        // Deliver them through the worker; each exactly once.
        let pager = try RecordingSink(name: "pager"), teams = try RecordingSink(name: "teams")
        let worker = DeliveryWorker(outbox: box, notifiers: [pager, teams])
        worker.start()
        #expect(eventually { box.pendingEntries().isEmpty })
        worker.stop()
        #expect(pager.delivered.map(\.id) == [ns[1].id, ns[2].id])
        #expect(teams.delivered.map(\.id) == ns.map(\.id))
        // Third run: nothing pending, nothing re-sent.
        let again = try Outbox(directory: dir.path)
        #expect(again.pendingEntries().isEmpty)
        #expect(try again.put(ns[0], notifiers: ["pager", "teams", "webhook"]).map(\.notifier) == ["webhook"], "a new notifier still gets it")
    }

    @Test("puts read back from the file are decoded only when delivered, in the order put; one that cannot be decoded is dropped and can be put again")
    func pendingPutsReadBackAreDecodedWhenDelivered() throws {
        let dir = TempDir()
        let ns = try sampleNotifications(4)
        do {
            let box = try Outbox(directory: dir.path)
            for n in ns { try box.put(n, notifiers: ["pager", "teams"]) }
            try box.markDone(Outbox.key(ns[1], "pager"))
        }
        // The second put for teams is spoilt: its key is readable, its notification is not.
        let path = dir.file("outbox.jsonl")
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let spoilt = try #require(lines.firstIndex { $0.contains(Outbox.key(ns[1], "teams")) })
        lines[spoilt] = lines[spoilt].replacingOccurrences(of: "\"severity\":\"warning\"", with: "\"severity\":\"loud\"")
        // A line whose key has an escape is read by the decoder in full.
        lines.append(#"{"key":"x\u0041@pager","op":"done","outcome":"sent"}"#)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)

        let box = try Outbox(directory: dir.path)
        #expect(box.pendingCount() == 7 && box.pendingCount(notifier: "pager") == 3 && box.pendingCount(notifier: "teams") == 4)
        #expect(box.pendingKeys(notifier: "pager") == [ns[0], ns[2], ns[3]].map { Outbox.key($0, "pager") })
        #expect(box.contains("xA@pager"), "the escaped key, decoded")
        #expect(box.firstPending(notifier: "teams")?.notification == ns[0])
        try box.markDone(Outbox.key(ns[0], "teams"))
        // The spoilt one is passed over when reached, and forgotten.
        #expect(box.firstPending(notifier: "teams")?.notification == ns[2])
        #expect(box.pendingCount(notifier: "teams") == 2)
        #expect(box.pendingEntries(notifier: "teams").map(\.notification) == [ns[2], ns[3]])
        #expect(box.pendingEntries().map(\.key) == [ns[0], ns[2], ns[2], ns[3], ns[3]].enumerated().map {
            Outbox.key($0.element, ["pager", "pager", "teams", "pager", "teams"][$0.offset])
        })
        #expect(try box.put(ns[1], notifiers: ["pager", "teams"]).map(\.notifier) == ["teams"], "the spoilt delivery is put again, the finished one is not")
    }

    /// Notifications of one alert episode (ga_occupancy at RWH since 10:00), in the order
    /// decided, and one of another site's.
    static func episode(_ kinds: [NotificationKind]) throws -> [AlertNotification] {
        let since = try #require(RFC3339.parse("2026-01-20T10:00:00Z"))
        let lead = LeadRef(id: "rwh-oncall", name: "Priya Shah", role: "Site on-call manager", contact: nil)
        return kinds.enumerated().map { i, kind in
            AlertNotification(id: "n\(i)", kind: kind, at: EventTime(millis: since.millis + Int64(i) * 3_600_000), rule: "ga_occupancy",
                              site: kind == .severityChanged ? "RWG" : "RWH", severity: .critical, state: "firing", value: 96,
                              summary: "G&A occ 96%", since: since, lead: lead, sequence: i)
        }
    }

    @Test("a notifier that cannot deliver keeps only the latest reminder of an alert: a later message of the same episode supersedes a waiting repeat, recorded as done")
    func aWaitingRepeatIsSupersededByALaterMessageOfItsEpisode() throws {
        let dir = TempDir()
        // firing, three hourly repeats, a repeat of another site's alert (RWG), an escalation.
        let ns = try Self.episode([.firing, .repeat, .repeat, .repeat, .severityChanged, .escalated])
        let superseded = Said()
        let box = try Outbox(directory: dir.path)
        box.onSuperseded = { key, notifier in superseded.add("\(key) \(notifier)") }
        for n in ns.prefix(4) { try box.put(n, notifiers: ["pager"]) }
        #expect(box.pendingEntries().map(\.notification.id) == ["n0", "n3"], "the first message and the latest reminder")
        #expect(superseded.all == ["n1@pager pager", "n2@pager pager"])
        try box.put(ns[4], notifiers: ["pager"])
        #expect(box.pendingCount(notifier: "pager") == 3, "another site's alert supersedes nothing")
        try box.put(ns[5], notifiers: ["pager", "teams"])
        #expect(box.pendingEntries(notifier: "pager").map(\.notification.id) == ["n0", "n4", "n5"], "the escalation supersedes the waiting repeat")
        #expect(box.pendingEntries(notifier: "teams").map(\.notification.id) == ["n5"])
        let lines = try String(contentsOfFile: dir.file("outbox.jsonl"), encoding: .utf8)
        #expect(lines.components(separatedBy: "\"outcome\":\"superseded\"").count - 1 == 3)
        // A restart: the same pending, nothing put again.
        let again = try Outbox(directory: dir.path)
        #expect(again.pendingEntries().map(\.key) == ["n0@pager", "n4@pager", "n5@pager", "n5@teams"])
        for n in ns { #expect(try again.put(n, notifiers: ["pager"]).isEmpty) }
        // A replay's outbox keeps every notification.
        let replay = try Outbox(directory: TempDir().path, durable: false, supersedesRepeats: false)
        for n in ns.prefix(4) { try replay.put(n, notifiers: ["pager"]) }
        #expect(replay.pendingCount() == 4)
    }

    /// Digests for a lead (the per-lead budget's bundles), each of the given items' kinds, an hour apart.
    static func digests(_ itemKinds: [[NotificationKind]], lead: String = "rwh-oncall") throws -> [AlertNotification] {
        let ns = try episode(Array(repeating: .repeat, count: 1))
        let ref = LeadRef(id: lead, name: "Lead", role: "Site on-call manager", contact: nil)
        return itemKinds.enumerated().map { i, kinds in
            let items = kinds.enumerated().map { j, k in
                var n = ns[0]
                n.id = "d\(i)-\(j)"; n.kind = k; n.lead = ref
                return n
            }
            return AlertNotification(id: "d\(i)", kind: .digest, at: ns[0].at + .hours(Int64(i)), rule: "digest", site: "RWH", severity: .critical,
                                     state: "firing", value: Double(items.count), summary: "\(items.count) alert notifications held",
                                     since: ns[0].at + .hours(Int64(i)), lead: ref, items: items)
        }
    }

    @Test("a notifier that cannot deliver keeps only the latest digest of reminders for a lead: a later digest for the lead supersedes one whose items are all repeats, never one holding a firing or resolve message")
    func aWaitingDigestOfRemindersIsSuperseded() throws {
        let dir = TempDir()
        var ds = try Self.digests([[.repeat, .repeat], [.repeat], [.firing, .repeat], [.repeat], [.repeat, .repeat]])
        ds += try Self.digests([[.repeat]], lead: "rwg-oncall").map { var d = $0; d.id = "other"; return d }
        let superseded = Said()
        let box = try Outbox(directory: dir.path)
        box.onSuperseded = { key, _ in superseded.add(key) }
        for d in ds { try box.put(d, notifiers: ["pager"]) }
        // d0 and d1 (reminders) are superseded by the next digest for the lead; d2 holds a firing
        // message and stays; d3 is superseded by d4; another lead's digest supersedes nothing.
        #expect(box.pendingEntries().map(\.notification.id) == ["d2", "d4", "other"])
        #expect(superseded.all == ["d0@pager", "d1@pager", "d3@pager"])
        // A file written before digests were superseded: tidied when read back.
        let old = TempDir()
        do {
            let box = try Outbox(directory: old.path, supersedesRepeats: false)
            for d in ds { try box.put(d, notifiers: ["pager", "teams"]) }
            #expect(box.pendingCount() == 12, "a replay's outbox keeps every digest")
        }
        let reopened = try Outbox(directory: old.path)
        #expect(reopened.pendingEntries(notifier: "teams").map(\.notification.id) == ["d2", "d4", "other"])
        #expect(reopened.firstPending(notifier: "pager")?.notification == ds[2])
        let again = try Outbox(directory: old.path)
        #expect(again.pendingEntries().map(\.key) == ["d2@pager", "d2@teams", "d4@pager", "d4@teams", "other@pager", "other@teams"])
    }

    @Test("a repeat delivered is not remembered as its episode's waiting repeat, and a notifier that cannot deliver keeps in its queue what waits, not every reminder superseded: both grew with every alert for as long as the service ran")
    func finishedRepeatsAndSupersededKeysAreLetGo() throws {
        let dir = TempDir()
        let box = try Outbox(directory: dir.path)
        let lead = LeadRef(id: "rwh-oncall", name: "Priya Shah", role: "Site on-call manager", contact: nil)
        func note(_ id: String, _ kind: NotificationKind, since: EventTime, at: EventTime) -> AlertNotification {
            AlertNotification(id: id, kind: kind, at: at, rule: "handover_queue", site: "RWH", severity: .critical, state: "firing", value: 12,
                              summary: "Amb queue 12", since: since, lead: lead, sequence: 1)
        }
        // 200 episodes, each a firing and an hourly repeat, both delivered (the pager is not sent
        // resolves, so each episode's last message to it is the repeat).
        let t0 = utc("2026-01-20T10:00:00Z")
        for e in 0..<200 {
            let since = t0 + .minutes(Int64(180 * e))
            for (i, kind) in [NotificationKind.firing, .repeat].enumerated() {
                let n = note("e\(e)-\(i)", kind, since: since, at: since + .minutes(Int64(60 * i)))
                try box.put(n, notifiers: ["pager"])
                try box.markDone(Outbox.key(n, "pager"))
            }
        }
        #expect(box.pendingRepeatCount == 0, "\(box.pendingRepeatCount) finished repeats remembered")
        // A notifier down for a week behind an alert's first message: its hourly reminders each
        // supersede the one before.
        let since = t0 + .minutes(180 * 200)
        for h in 0...168 {
            try box.put(note("w\(h)", h == 0 ? .firing : .repeat, since: since, at: since + .minutes(Int64(60 * h))), notifiers: ["teams"])
        }
        #expect(box.pendingKeys(notifier: "teams") == ["w0@teams", "w168@teams"])
        #expect(box.queuedKeyCount(notifier: "teams") <= 2 * 2 + 64, "\(box.queuedKeyCount(notifier: "teams")) keys queued for 2 waiting")
        #expect(box.pendingRepeatCount == 1)
        // Read back, the same wait.
        box.close()
        let again = try Outbox(directory: dir.path)
        #expect(again.pendingKeys(notifier: "teams") == ["w0@teams", "w168@teams"])
        #expect(again.pendingRepeatCount == 1)
    }

    @Test("repeats waiting in a file written before they could be superseded are superseded when it is read back")
    func repeatsWaitingInAnOlderFileAreSupersededOnOpen() throws {
        let dir = TempDir()
        let ns = try Self.episode([.firing, .repeat, .repeat, .repeat])
        do {
            let old = try Outbox(directory: dir.path, supersedesRepeats: false)
            for n in ns { try old.put(n, notifiers: ["pager", "teams"]) }
            try old.markDone("n0@teams")
        }
        let box = try Outbox(directory: dir.path)
        #expect(box.pendingEntries().map(\.key) == ["n0@pager", "n3@pager", "n3@teams"])
        let reopened = try Outbox(directory: dir.path)
        #expect(reopened.pendingEntries().map(\.key) == ["n0@pager", "n3@pager", "n3@teams"], "the superseded ones are finished in the file")
        #expect(reopened.firstPending(notifier: "teams")?.notification == ns[3])
    }

    @Test("a delivery superseded while its notifier was failing has its attempts forgotten when the worker moves on: each was kept for as long as the service ran")
    func attemptsOfASupersededDeliveryAreForgotten() throws {
        let dir = TempDir()
        let box = try Outbox(directory: dir.path)
        let down = FlakyNotifier(name: "pager", failures: .max)
        let worker = DeliveryWorker(outbox: box, notifiers: [down],
                                    retry: RetryPolicy(initialBackoff: 0.001, maxBackoff: 0.002, failingAfter: 3, maxAttempts: 1_000_000))
        let ns = try Self.episode(Array(repeating: .repeat, count: 20))
        worker.start()
        for n in ns {
            try box.put(n, notifiers: ["pager"])   // supersedes the repeat in hand
            let calls = down.calls
            #expect(eventually { down.calls >= calls + 2 })
        }
        #expect(eventually { worker.attemptedKeys == ["n19@pager"] }, "\(worker.attemptedKeys.count) keys counted")
        worker.stop()
    }

    @Test("compaction writes a pending put read back and not yet decoded as it was read")
    func compactionKeepsUndecodedPutsAsRead() throws {
        let dir = TempDir()
        let ns = try sampleNotifications(3)
        do {
            let box = try Outbox(directory: dir.path, remember: 2)
            for n in ns { try box.put(n, notifiers: ["pager"]) }
            for n in ns.prefix(2) { try box.markDone(Outbox.key(n, "pager")) }
        }
        let path = dir.file("outbox.jsonl")
        let before = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let pendingLine = try #require(before.first { $0.contains(Outbox.key(ns[2], "pager")) && $0.contains("\"put\"") })
        // Three more finished keys than `remember` keeps: opening compacts.
        let lines = before + (0..<3).map { "{\"key\":\"old\($0)@pager\",\"op\":\"done\",\"outcome\":\"sent\"}"[...] }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let box = try Outbox(directory: dir.path, remember: 2)
        let after = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(after.count == 3, "the 2 latest finished keys and the pending put: \(after)")
        #expect(after.last == pendingLine)
        #expect(box.firstPending(notifier: "pager")?.notification == ns[2])
        #expect(!box.contains(Outbox.key(ns[0], "pager")) && box.contains("old2@pager"))
    }

    @Test("a running outbox compacts too: a winter of deliveries keeps the file and the finished keys bounded, a waiting delivery and the latest finished keys through every compaction")
    func aRunningOutboxStaysBounded() throws {
        let dir = TempDir()
        let ns = try Self.episode(Array(repeating: .firing, count: 101))
        let box = try Outbox(directory: dir.path, remember: 8)
        try box.put(ns[0], notifiers: ["teams"])   // waits throughout (its notifier is down)
        var longest = 0
        for n in ns.dropFirst() {
            try box.put(n, notifiers: ["pager"])
            try box.markDone(Outbox.key(n, "pager"), outcome: n.sequence % 10 == 0 ? "gave_up" : "sent")
            longest = max(longest, try String(contentsOfFile: dir.file("outbox.jsonl"), encoding: .utf8).split(separator: "\n").count)
        }
        // Compacted at 10 finished keys (8 kept, a quarter more): the waiting put, and a put
        // and a done for each of at most 9 more (201 lines without).
        #expect(longest <= 19, "\(longest) lines")
        #expect(box.pendingKeys(notifier: "teams") == ["n0@teams"])
        #expect(!box.contains("n1@pager") && box.contains("n100@pager"))
        #expect(try box.put(ns[100], notifiers: ["pager"]).isEmpty, "a recent delivery is not put twice")
        #expect(try Self.doneLines(dir.file("outbox.jsonl")) == (93...100).map { "n\($0)@pager \($0 == 100 ? "gave_up" : "sent")" }, "the 8 latest, each with its own outcome")
        box.close()
        let again = try Outbox(directory: dir.path, remember: 8)
        #expect(again.pendingEntries().map(\.key) == ["n0@teams"])
    }

    @Test("a compaction writes the file a piece at a time, not all of it from memory at once: a running service's compactions each took some 50 MB, most of which the allocator kept")
    func aCompactionWritesAPieceAtATime() throws {
        let dir = TempDir()
        let box = try Outbox(directory: dir.path, remember: 8_000, durable: false)
        let n = try sampleNotifications(1)[0]
        try box.put(n, notifiers: ["teams"])   // waits throughout
        for i in 0..<10_000 {
            var x = n
            x.id = String(format: "%016llx", UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            try box.put(x, notifiers: ["pager"])
            try box.markDone(Outbox.key(x, "pager"))
        }
        // Compacted once, at 10,000 finished keys: 8,000 done lines and the waiting put, some
        // 570 KB, written in pieces.
        #expect(box.largestCompactionWrite > 0 && box.largestCompactionWrite <= Outbox.compactionPiece + 1_000,
                "\(box.largestCompactionWrite) bytes at once")
        let lines = try String(contentsOfFile: dir.file("outbox.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 8_001)
        #expect(box.pendingKeys(notifier: "teams") == [Outbox.key(n, "teams")])
        #expect(box.contains(Outbox.key(n, "teams")))
        let last = String(format: "%016llx", UInt64(9_999) &* 0x9E37_79B9_7F4A_7C15) + "@pager"
        let forgotten = String(format: "%016llx", UInt64(1_999) &* 0x9E37_79B9_7F4A_7C15) + "@pager"
        let kept = String(format: "%016llx", UInt64(2_000) &* 0x9E37_79B9_7F4A_7C15) + "@pager"
        #expect(box.contains(last) && box.contains(kept) && !box.contains(forgotten))
        box.close()
        let again = try Outbox(directory: dir.path, remember: 8_000, durable: false)
        #expect(again.pendingKeys(notifier: "teams") == [Outbox.key(n, "teams")])
        #expect(again.contains(kept) && !again.contains(forgotten))
    }

    /// The finished keys of an outbox file, in order, each with its outcome (nil: none written).
    static func doneLines(_ path: String) throws -> [String] {
        struct Line: Decodable { var key: String; var op: String; var outcome: String? }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { l in
            let r = try JSONDecoder().decode(Line.self, from: Data(l.utf8))
            return r.op == "done" ? "\(r.key) \(r.outcome ?? "-")" : nil
        }
    }

    @Test("compaction keeps each finished key's outcome (sent, gave_up, superseded, one it does not know, none), as the key's last done line says; read back and compacted again the same")
    func compactionKeepsEachFinishedKeysOutcome() throws {
        let dir = TempDir()
        // firing, two hourly repeats, an escalation, a repeat, an escalation: each repeat is
        // superseded by the next message of the episode.
        let ns = try Self.episode([.firing, .repeat, .repeat, .escalated, .repeat, .escalated])
        do {
            let box = try Outbox(directory: dir.path)
            for n in ns.prefix(4) { try box.put(n, notifiers: ["pager"]) }
            try box.markDone("n0@pager")
            try box.markDone("n3@pager", outcome: "gave_up")
            // A repeat in hand when a later message supersedes it, then sent after all: sent.
            try box.put(ns[4], notifiers: ["pager"])
            #expect(box.firstPending(notifier: "pager")?.key == "n4@pager")
            try box.put(ns[5], notifiers: ["pager"])
            try box.markDone("n4@pager")
        }
        let path = dir.file("outbox.jsonl")
        #expect(try Self.doneLines(path) == ["n1@pager superseded", "n2@pager superseded", "n0@pager sent", "n3@pager gave_up",
                                             "n4@pager superseded", "n4@pager sent"])
        // An older finished key first (forgotten by the compaction), and two written by hand: an
        // outcome this program does not write, and none.
        let lines = [#"{"key":"old@pager","op":"done","outcome":"sent"}"#]
            + (try String(contentsOfFile: path, encoding: .utf8)).split(separator: "\n").map(String.init)
            + [#"{"key":"x@pager","op":"done","outcome":"cancelled"}"#, #"{"key":"y@pager","op":"done"}"#]
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        // Eight finished keys, seven kept: opening compacts.
        let box = try Outbox(directory: dir.path, remember: 7)
        let kept = ["n1@pager superseded", "n2@pager superseded", "n0@pager sent", "n3@pager gave_up", "n4@pager sent",
                    "x@pager cancelled", "y@pager -"]
        let compacted = try Self.doneLines(path)
        #expect(compacted == kept)
        #expect(box.pendingKeys(notifier: "pager") == ["n5@pager"])
        #expect(!box.contains("old@pager") && box.contains("n1@pager"))
        box.close()
        // Read back and compacted again: the same outcomes, the oldest forgotten.
        let again = try Outbox(directory: dir.path, remember: 6)
        let compactedAgain = try Self.doneLines(path)
        #expect(compactedAgain == Array(kept.dropFirst()))
        #expect(again.pendingEntries().map(\.notification.id) == ["n5"])
        for n in ns.dropFirst(2) { #expect(try again.put(n, notifiers: ["pager"]).isEmpty) }
    }

    @Test("on a full disk a notification is delivered once all the same: the outbox cannot keep it or its end, and says so")
    func aFullDiskNeitherDropsNorRepeatsADelivery() throws {
        let dir = TempDir()
        let ns = try sampleNotifications(2)
        let box = try Outbox(directory: dir.path)
        try box.put(ns[0], notifiers: ["pager"])   // written whole before the disk fills
        // The outbox's descriptor now writes to /dev/full (every write: no space left on device).
        let restore = try #require(diskFull(dir, "outbox.jsonl"))
        #expect(throws: NotifyIOError.self) { try box.put(ns[1], notifiers: ["pager"]) }
        #expect(box.pendingEntries().map(\.notification.id) == [ns[0].id, ns[1].id], "still to deliver in this run")
        let problems = Said()
        let pager = FlakyNotifier(name: "pager", failures: 0)
        let worker = DeliveryWorker(outbox: box, notifiers: [pager])
        worker.onStateProblem = { problems.add($0) }
        worker.start()
        #expect(eventually(within: 3) { box.pendingEntries().isEmpty })
        Thread.sleep(forTimeInterval: 0.3)
        worker.stop()
        // Each delivered once: a delivery whose end could not be written stayed pending, and was
        // delivered again at once, over and over (counted, not listed: millions of calls).
        let calls = pager.calls, said = problems.all.count
        #expect(calls == 2)
        if calls == 2 { #expect(pager.delivered == [ns[0].id, ns[1].id]) }
        #expect(said == 2)
        if said == 2 { #expect(problems.all.allSatisfy { $0.contains("is not recorded") }, "\(problems.all)") }
        // Room again: the file holds whole lines only. (/dev/full refuses a write whole; a write
        // refused part-way, on a disk with a little room, is cut back as the journal's is.)
        restore()
        try box.markDone(Outbox.key(ns[0], "pager"))
        let lines = try String(contentsOfFile: dir.file("outbox.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") }, "\(lines)")
    }

    @Test("the outbox's file: a write cut part-way by a full disk, then refused, is cut back; the next append starts on a line of its own")
    func aWriteCutPartWayIsCutBack() throws {
        let dir = TempDir()
        let path = dir.file("outbox.jsonl")
        // `write(2)` on a disk with room for `capacity` bytes of the file: a write takes what
        // fits (a short write), the next one is refused (no space left on device).
        final class Disk: @unchecked Sendable { var capacity = Int.max; var shortWrites = 0; var refusals = 0 }
        let disk = Disk()
        let file = try AppendFile(path: path) { fd, p, count in
            var st = stat()
            guard fstat(fd, &st) == 0 else { return -1 }
            let room = disk.capacity - Int(st.st_size)
            if room <= 0 { disk.refusals += 1; errno = ENOSPC; return -1 }
            let n = write(fd, p, min(count, room))
            if n >= 0 && n < count { disk.shortWrites += 1 }
            return n
        }
        defer { file.close() }
        func contents() -> [UInt8] { FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? [] }
        try file.append(["{\"op\":\"put\",\"key\":\"a\"}"], sync: false)
        let old = contents()
        #expect(old == Array("{\"op\":\"put\",\"key\":\"a\"}\n".utf8))

        disk.capacity = old.count + 7
        do {
            try file.append(["{\"op\":\"put\",\"key\":\"b\"}", "{\"op\":\"done\",\"key\":\"a\"}"], sync: true)
            Issue.record("the append was not refused")
        } catch let e as NotifyIOError {
            #expect(e.description.contains("No space left on device"), "\(e)")
        }
        #expect(disk.shortWrites == 1 && disk.refusals == 1, "cut part-way, then refused")
        #expect(contents() == old, "the file is exactly what it was before the append, byte for byte")

        disk.capacity = .max
        try file.append(["{\"op\":\"done\",\"key\":\"a\"}"], sync: true)
        #expect(contents() == old + Array("{\"op\":\"done\",\"key\":\"a\"}\n".utf8))
        #expect(AppendFile.readLines(path) == ["{\"op\":\"put\",\"key\":\"a\"}", "{\"op\":\"done\",\"key\":\"a\"}"])
    }

    @Test("the outbox's file: a write that takes nothing and reports no error is an I/O error, cut back, not asked again for ever")
    func aWriteOfNothingIsAnError() throws {
        let dir = TempDir()
        let path = dir.file("outbox.jsonl")
        // Takes 7 bytes, then nothing (0, no error); after 1,000 such calls it fails, so that a
        // loop that asks again fails this test instead of hanging it.
        final class Calls: @unchecked Sendable { var count = 0; var on = false }
        let calls = Calls()
        let file = try AppendFile(path: path) { fd, p, count in
            guard calls.on else { return write(fd, p, count) }
            calls.count += 1
            if calls.count == 1 { return write(fd, p, min(count, 7)) }
            if calls.count > 1_000 { errno = EDOM; return -1 }
            return 0
        }
        defer { file.close() }
        try file.append(["{\"op\":\"put\",\"key\":\"a\"}"], sync: false)
        let old = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
        calls.on = true
        do {
            try file.append(["{\"op\":\"put\",\"key\":\"b\"}"], sync: false)
            Issue.record("the append was not refused")
        } catch let e as NotifyIOError {
            #expect(e.description.contains(String(cString: strerror(EIO))), "\(e)")
        }
        #expect(calls.count == 2, "asked once more after the part, not again")
        #expect((FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []) == old, "the part written is cut back")
    }

    @Test("on a full disk the notification log says a line is not written, and takes it as not written")
    func aFullDiskIsSaidByTheNotificationLog() throws {
        let dir = TempDir()
        let ns = try sampleNotifications(2)
        let log = try AlertLog(path: dir.file("alerts.jsonl"))
        let problems = Said()
        log.onWriteProblem = { problems.add($0) }
        log.record(ns[0], notifiers: ["pager"])
        let restore = try #require(diskFull(dir, "alerts.jsonl"))
        log.record(ns[1], notifiers: ["pager"])
        #expect(problems.all.count == 1 && problems.all.first?.hasPrefix("notification log: a line is not written") == true, "\(problems.all)")
        restore()
        log.record(ns[1], notifiers: ["pager"])   // not taken as written: written now
        let text = try String(contentsOfFile: dir.file("alerts.jsonl"), encoding: .utf8)
        #expect(text.contains(ns[1].id), "\(text)")
        #expect(problems.all.count == 1)
    }

    @Test func retriesWithBackoffAndRaisesItsOwnAlert() throws {
        let dir = TempDir()
        let ns = try sampleNotifications(2)
        let box = try Outbox(directory: dir.path)
        let log = try AlertLog(path: dir.file("alerts.jsonl"))
        let flaky = FlakyNotifier(name: "pager", failures: 4)
        let worker = DeliveryWorker(outbox: box, notifiers: [flaky],
                                    retry: RetryPolicy(initialBackoff: 0.02, maxBackoff: 0.1, failingAfter: 3, maxAttempts: 50), log: log)
        let changes = StatusBox()
        worker.onStatusChange = { changes.add($0) }
        for n in ns { try box.put(n, notifiers: ["pager"]) }
        worker.start()
        #expect(eventually { box.pendingEntries().isEmpty })
        worker.stop()
        #expect(flaky.delivered == ns.map(\.id), "in order, each once")
        #expect(flaky.calls == 6)
        #expect(changes.all.map(\.failing) == [true, false], "failing after 3 in a row, then recovered")
        #expect(changes.all.first?.lastError == "connection refused")
        // Said on stderr by a headless service, with what waits (both notifications, then).
        #expect(changes.all.map(\.change) == ["notifier pager is failing: 3 deliveries in a row failed (connection refused); 2 waiting, retried with backoff",
                                              "notifier pager delivers again"])
        let failing = changes.all.first!
        let alert = failing.alert(at: utc("2026-01-20T10:05:00Z"), since: utc("2026-01-20T10:04:00Z"))
        #expect(alert?.rule == "notifier_failing" && alert?.site == "SYSTEM")
        #expect(alert?.summary.hasPrefix("Notifier pager failing 3 times in a row") == true)
        let status = worker.status()[0]
        #expect(!status.failing && status.sent == 2 && status.pending == 0)
        log.close()
        let lines = try String(contentsOfFile: dir.file("alerts.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("\"outcome\":\"failed\"") }.count == 4)
        #expect(lines.filter { $0.contains("\"outcome\":\"sent\"") }.count == 2)
    }

    @Test func givesUpAfterMaxAttemptsAndRecordsIt() throws {
        let dir = TempDir()
        let ns = try sampleNotifications(1)
        let box = try Outbox(directory: dir.path)
        let flaky = FlakyNotifier(name: "pager", failures: 1000)
        let worker = DeliveryWorker(outbox: box, notifiers: [flaky],
                                    retry: RetryPolicy(initialBackoff: 0.001, maxBackoff: 0.005, failingAfter: 2, maxAttempts: 3))
        try box.put(ns[0], notifiers: ["pager"])
        worker.start()
        #expect(eventually { box.pendingEntries().isEmpty })
        worker.stop()
        #expect(flaky.calls == 3)
        #expect(worker.status()[0].gaveUp == 1 && worker.status()[0].failing)
        let text = try String(contentsOfFile: dir.file("outbox.jsonl"), encoding: .utf8)
        #expect(text.contains("\"outcome\":\"gave_up\""))
    }

    /// A notifier down for weeks: each delivery waited its turn for 50 attempts (about six
    /// given up a day at the longest backoff) while the alerts put more, so its backlog, and
    /// the memory it took, grew for as long as it was down, to be sent all at once, days late.
    @Test("a delivery waiting longer than a day for a failing notifier is given up at its next failure, logged expired; one read back at a restart waits from the restart")
    func aFailingNotifiersBacklogIsBounded() throws {
        let dir = TempDir()
        let ns = try sampleNotifications(3)
        let clock = ShiftedClock()
        let box = try Outbox(directory: dir.path, wallClock: clock.now)
        let log = try AlertLog(path: dir.file("alerts.jsonl"))
        let down = FlakyNotifier(name: "pager", failures: .max)
        let worker = DeliveryWorker(outbox: box, notifiers: [down],
                                    retry: RetryPolicy(initialBackoff: 0.001, maxBackoff: 0.005, failingAfter: 2, maxAttempts: 1_000_000),
                                    log: log, wallClock: clock.now)
        try box.put(ns[0], notifiers: ["pager"])
        try box.put(ns[1], notifiers: ["pager"])
        clock.shift(by: 23 * 3600)
        try box.put(ns[2], notifiers: ["pager"])
        worker.start()
        #expect(eventually { down.calls >= 5 })
        #expect(box.pendingCount(notifier: "pager") == 3, "nothing has waited a day yet")
        clock.shift(by: 3600 + 1)   // the first two have waited a day and a second, the third an hour
        #expect(eventually { box.pendingCount(notifier: "pager") == 1 })
        worker.stop()
        #expect(box.pendingEntries().map(\.notification.id) == [ns[2].id])
        #expect(worker.status()[0].gaveUp == 2 && worker.status()[0].failing)
        log.close()
        let lines = try String(contentsOfFile: dir.file("alerts.jsonl"), encoding: .utf8).split(separator: "\n")
        let expired = lines.filter { $0.contains("\"outcome\":\"expired\"") }
        #expect(expired.count == 2)
        #expect(expired.allSatisfy { $0.contains("waited longer than 24h while the notifier failed (last error: connection refused)") }, "\(expired)")
        // A restart counts the failures, not the deliveries given up unattempted, and keeps no
        // attempts for them.
        let history = AlertLog.readDeliveryHistory(dir.file("alerts.jsonl"), failingAfter: 2)["pager"]!
        #expect(history.consecutiveFailures == lines.filter { $0.contains("\"outcome\":\"failed\"") }.count)
        #expect(Set(history.attempts.keys) == [box.pendingKeys(notifier: "pager")[0]])
        let outbox = try String(contentsOfFile: dir.file("outbox.jsonl"), encoding: .utf8)
        #expect(outbox.components(separatedBy: "\"outcome\":\"gave_up\"").count - 1 == 2)

        // Read back, the third waits from the restart: a day after it, not after its put.
        clock.shift(by: 24 * 3600)
        let reopened = try Outbox(directory: dir.path, wallClock: clock.now)
        #expect(try reopened.giveUpWaiting(notifier: "pager", since: clock.now().addingTimeInterval(-1)).isEmpty)
        #expect(try reopened.giveUpWaiting(notifier: "pager", since: clock.now().addingTimeInterval(1)).count == 1)
        #expect(reopened.pendingCount() == 0)
    }

    @Test func theAlertLogRecordsEverythingOnce() throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        let ts = [transition("ga_occupancy", "RWH", .warning, .pending, at: "2026-01-20T09:30:00Z"),
                  transition("ga_occupancy", "RWH", .warning, .firing, at: "2026-01-20T10:00:00Z", since: "2026-01-20T09:30:00Z")]
        for _ in 0..<2 {  // the second run re-feeds the same history (a restart)
            let svc = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .replay)
            svc.handle(ts)
            svc.acknowledge(rule: "ga_occupancy", site: "RWH", by: "Priya Shah", note: "beds opening", at: utc("2026-01-20T10:05:00Z"))
            svc.silence(Silence(id: "s1", site: "RWG", from: utc("2026-01-20T10:00:00Z"), until: utc("2026-01-20T11:00:00Z"), by: "Morgan Lee", reason: "drill"))
            #expect(eventually { svc.outbox.pendingEntries().isEmpty })
            svc.close()
        }
        let lines = try String(contentsOfFile: dir.file(NotificationService.logName), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("{\"type\":\"transition\"") }.count == 2)
        #expect(lines.filter { $0.hasPrefix("{\"type\":\"notification\"") }.count == 1)
        #expect(lines.filter { $0.hasPrefix("{\"type\":\"ack\"") }.count == 1)
        #expect(lines.filter { $0.hasPrefix("{\"type\":\"silence\"") }.count == 1)
        let note = lines.first { $0.hasPrefix("{\"type\":\"notification\"") }!
        #expect(note.contains("\"notifiers\":[\"alertmanager\",\"teams-relay\"]"))
        #expect(lines.first { $0.hasPrefix("{\"type\":\"transition\"") }!.contains("\"state\":\"pending\""))
    }

    @Test("the notification log keeps no line of its own run in memory (each transition and notification it wrote was kept, for as long as it ran), and those of the run before only until the restart has caught up, still writing none of them twice")
    func theAlertLogRemembersOnlyTheRunBeforeUntilCaughtUp() throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        // 60 episodes of an alert at three sites, two hours apart: pending, firing, resolved.
        var ts: [AlertTransition] = []
        for i in 0..<60 {
            let start = utc("2026-01-20T00:00:00Z") + .minutes(Int64(120 * i))
            let site = ["RWH", "RWG", "RQW"][i % 3]
            let at = { (m: Int64) in RFC3339.format(start + .minutes(m)) }
            ts += [transition("ga_occupancy", site, .warning, .pending, at: at(0)),
                   transition("ga_occupancy", site, .warning, .firing, at: at(30), since: at(0)),
                   transition("ga_occupancy", site, .warning, .resolved, at: at(90), since: at(0))]
        }
        func logged() throws -> [Substring] {
            try String(contentsOfFile: dir.file(NotificationService.logName), encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("{\"type\":\"delivery\"") }
        }
        do {
            let svc = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .replay)
            svc.handle(ts)
            svc.tick(now: utc("2026-01-25T00:00:00Z"))
            #expect(svc.log.rememberedLineCount == 0, "\(svc.log.rememberedLineCount) lines kept in memory")
            #expect(eventually { svc.outbox.pendingEntries().isEmpty })
            svc.close()
        }
        let first = try logged()
        #expect(first.count > 300)
        // A restart re-feeding the same history writes none of it again, then forgets it.
        let svc = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .replay)
        #expect(svc.log.rememberedLineCount == first.count)
        svc.handle(ts)
        svc.tick(now: utc("2026-01-25T00:00:00Z"))
        svc.log.forgetEarlierLines()
        #expect(svc.log.rememberedLineCount == 0)
        #expect(eventually { svc.outbox.pendingEntries().isEmpty })
        svc.close()
        #expect(try logged() == first)
    }

    @Test("a recording sink keeps the latest notifications in memory, not every one (its file has them all)")
    func aRecordingSinkKeepsTheLatestOnly() throws {
        let dir = TempDir()
        let sink = try RecordingSink(name: "pager", path: dir.file("recorded-pager.jsonl"))
        let n = try sampleNotifications(1)[0]
        for i in 0..<2_500 {
            var x = n
            x.id = "n\(i)"
            try sink.deliver(x)
        }
        #expect(sink.delivered.count == 1_000, "\(sink.delivered.count) kept")
        #expect(sink.delivered.first?.id == "n1500" && sink.delivered.last?.id == "n2499")
        #expect(sink.deliveredCount == 2_500)
        let recorded = try String(contentsOfFile: dir.file("recorded-pager.jsonl"), encoding: .utf8)
        #expect(recorded.split(separator: "\n").count == 2_500)
    }

    @Test func replayGoesToRecordingSinksOnly() throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        let svc = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .replay)
        svc.handle([transition("handover_queue", "RWH", .critical, .firing, at: "2026-01-20T10:00:00Z")])
        #expect(eventually { svc.outbox.pendingEntries().isEmpty })
        svc.close()
        #expect(Set(svc.recordings.keys) == ["pager", "teams-relay", "alertmanager"])
        #expect(svc.recordings["pager"]!.delivered.map(\.kind) == [.firing])
        #expect(svc.recordings["alertmanager"]!.delivered.count == 1)
        let recorded = try String(contentsOfFile: dir.file("recorded-pager.jsonl"), encoding: .utf8)
        #expect(recorded.contains("\"lead\":{\"contact\":\"+44 7700 900101\",\"id\":\"rwh-oncall\""))
    }
}

/// The wall clock, moved on by hand: real time (the worker's backoffs wait on it) plus a shift.
final class ShiftedClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset = 0.0
    func shift(by seconds: Double) { lock.withLock { offset += seconds } }
    var now: @Sendable () -> Date { { [self] in lock.withLock { Date().addingTimeInterval(offset) } } }
}

final class StatusBox: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [NotifierStatus] = []
    func add(_ s: NotifierStatus) { lock.withLock { list.append(s) } }
    var all: [NotifierStatus] { lock.withLock { list } }
}

@Suite(.serialized) struct NotifierTests {
    @Test func commandGetsTheNotificationOnStdin() throws {
        let dir = TempDir()
        let n = try sampleNotifications(1)[0]
        let out = dir.file("stdin.json")
        let cmd = CommandNotifier(name: "pager", argv: ["/bin/sh", "-c", "cat > \(out); echo \"$URGENTFLOW_NOTIFICATION_ID $URGENTFLOW_LEAD_CONTACT\" >> \(out)"],
                                  timeout: 10)
        try cmd.deliver(n)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(try NotificationJSON.decode(Array(lines[0].utf8)) == n)
        #expect(lines[1] == "\(n.id) +44 7700 900101")
    }

    @Test func commandFailureAndTimeout() throws {
        let n = try sampleNotifications(1)[0]
        let failing = CommandNotifier(name: "pager", argv: ["/bin/sh", "-c", "echo 'no signal' >&2; exit 3"], timeout: 10)
        #expect { try failing.deliver(n) } throws: { "\($0)".contains("exited with status 3: no signal") }
        let slow = CommandNotifier(name: "pager", argv: ["/bin/sleep", "30"], timeout: 0.3)
        let started = Date()
        #expect { try slow.deliver(n) } throws: { "\($0)".contains("timed out after 0.3s and was killed") }
        #expect(Date().timeIntervalSince(started) < 10, "killed, not waited for")
        let missing = CommandNotifier(name: "pager", argv: ["/nonexistent/send-sms"], timeout: 1)
        // In words, not Foundation's `Error Domain=NSCocoaErrorDomain Code=260` (the operators' user test).
        #expect { try missing.deliver(n) } throws: { "\($0)" == "pager: cannot run /nonexistent/send-sms: no such file" }
    }

    /// A pager command that cannot run was found at the first critical page: `check` and the
    /// start of `run` say it (`whyNotRunnable`).
    @Test func whyACommandCannotRun() throws {
        let dir = TempDir()
        let plain = dir.file("send-sms")
        try "#!/bin/sh\n".write(toFile: plain, atomically: true, encoding: .utf8)
        #expect(CommandNotifier.whyNotRunnable("/nonexistent/send-sms") == "no such file")
        #expect(CommandNotifier.whyNotRunnable(plain) == "not executable (chmod +x)")
        #expect(CommandNotifier.whyNotRunnable(dir.path) == "it is a folder")
        #expect(CommandNotifier.whyNotRunnable("/bin/true") == nil)
        #expect(CommandNotifier.whyNotRunnable("true") == nil, "found on PATH")
        #expect(CommandNotifier.whyNotRunnable("no-such-program-uf") == "no such file on PATH")
    }

    @Test("a command run for a delivery is let go, with its pipes: each kept a file descriptor and about 7 KB, and a service paging for a winter ran out of descriptors")
    func aCommandLeavesNoProcessOrDescriptorBehind() throws {
        let n = try sampleNotifications(1)[0]
        let ok = CommandNotifier(name: "pager", argv: ["/bin/sh", "-c", "cat > /dev/null"], timeout: 10)
        let failing = CommandNotifier(name: "pager", argv: ["/bin/sh", "-c", "echo 'no signal' >&2; exit 3"], timeout: 10)
        let slow = CommandNotifier(name: "pager", argv: ["/bin/sleep", "30"], timeout: 0.2)
        try ok.deliver(n)
        #expect(throws: NotifyIOError.self) { try failing.deliver(n) }
        #expect(throws: NotifyIOError.self) { try slow.deliver(n) }
        #expect(eventually(within: 5) { ok.lastProcess == nil }, "a command that succeeded")
        #expect(eventually(within: 5) { failing.lastProcess == nil }, "a command that failed")
        #expect(eventually(within: 5) { slow.lastProcess == nil }, "a command killed at its timeout")
        // The descriptors themselves (the whole test process's, which other suites share: a
        // margin for theirs). Without the fix, one more for each delivery.
        let quick = CommandNotifier(name: "pager", argv: ["/bin/true"], timeout: 10)
        func open() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0 }
        let before = open()
        for _ in 0..<300 { try quick.deliver(n) }
        #expect(open() - before < 100, "\(open() - before) more descriptors open after 300 deliveries")
    }

    @Test func webhookPostsTheDocumentedBody() throws {
        let server = try LoopbackHTTPServer()
        defer { server.shutdown() }
        let n = try sampleNotifications(1)[0]
        let hook = WebhookNotifier(name: "teams", target: HTTPTarget(url: "http://127.0.0.1:\(server.port)/urgentflow")!, timeout: 5,
                                   headers: ["Authorization": "Bearer t0ken"])
        try hook.deliver(n)
        let r = try #require(server.requests.first)
        #expect(r.method == "POST" && r.uri == "/urgentflow")
        #expect(r.header("Content-Type") == "application/json")
        #expect(r.header("Idempotency-Key") == n.id)
        #expect(r.header("Authorization") == "Bearer t0ken")
        #expect(try NotificationJSON.decode(r.body) == n)
        #expect(r.text.hasPrefix("{\"at\":\"2026-01-20T10:00:00Z\",\"ended_at\":null,\"escalation_level\":0,\"id\":"))
    }

    @Test func webhookErrorsAreFailures() throws {
        let server = try LoopbackHTTPServer(failFirst: 1)
        let n = try sampleNotifications(1)[0]
        let hook = WebhookNotifier(name: "teams", target: HTTPTarget(url: "http://127.0.0.1:\(server.port)/x")!, timeout: 5)
        #expect { try hook.deliver(n) } throws: { "\($0)".contains("HTTP 500") }
        try hook.deliver(n)
        let port = server.port
        server.shutdown()
        #expect { try hook.deliver(n) } throws: { "\($0)".contains("cannot connect") }
        _ = port
    }

    @Test func webhookThroughTheWorkerRetriesUntilTheServerAnswers() throws {
        let dir = TempDir()
        let server = try LoopbackHTTPServer(failFirst: 2)
        defer { server.shutdown() }
        let ns = try sampleNotifications(2)
        let box = try Outbox(directory: dir.path)
        let hook = WebhookNotifier(name: "teams", target: HTTPTarget(url: "http://127.0.0.1:\(server.port)/hook")!, timeout: 5)
        let worker = DeliveryWorker(outbox: box, notifiers: [hook], retry: RetryPolicy(initialBackoff: 0.02, maxBackoff: 0.1))
        for n in ns { try box.put(n, notifiers: ["teams"]) }
        worker.start()
        #expect(eventually { box.pendingEntries().isEmpty })
        worker.stop()
        let keys = server.requests.map { $0.header("Idempotency-Key")! }
        #expect(keys == [ns[0].id, ns[0].id, ns[0].id, ns[1].id], "retried in order; the receiver can de-duplicate by key")
    }

    @Test func httpTargets() {
        #expect(HTTPTarget(url: "http://127.0.0.1:9093") == HTTPTarget(url: "http://127.0.0.1:9093/"))
        #expect(HTTPTarget(url: "http://am.local/base/")?.with(path: "/api/v2/alerts").path == "/base/api/v2/alerts")
        #expect(HTTPTarget(url: "https://x") == nil && HTTPTarget(url: "http://:80") == nil && HTTPTarget(url: "http://h:99999") == nil)
    }
}

@Suite(.serialized) struct RestartTests {
    /// One run of `urgentflow run` as the service sees it: the engine's history, the clock, an ack.
    func run(_ svc: NotificationService, ack: Bool) {
        svc.handle([transition("handover_queue", "RWH", .critical, .firing, at: "2026-01-20T10:00:00Z")])
        svc.handle([transition("ga_occupancy", "RWG", .warning, .firing, at: "2026-01-20T10:00:00Z")])
        for m in 1...60 {
            svc.tick(now: utc("2026-01-20T10:00:00Z") + .minutes(Int64(m)))
            if ack && m == 5 {
                svc.acknowledge(rule: "ga_occupancy", site: "RWG", by: "Tom Okafor", note: "on it", at: utc("2026-01-20T10:05:00Z"))
            }
        }
    }

    @Test func aCrashBeforeDeliveryLosesNoneAndARestartSendsNoneTwice() throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        // First run: the pager is down; everything decided stays in the outbox. Then a crash.
        let down = FlakyNotifier(name: "pager", failures: 1_000_000)
        let first = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [down],
                                            retry: RetryPolicy(initialBackoff: 0.01, maxBackoff: 0.02, maxAttempts: 1_000_000))
        run(first, ack: true)
        let decided = first.outbox.pendingEntries().map(\.notification.id)
        #expect(decided.count == 2, "critical RWH: fired and escalated at 10:15 (pager takes critical only)")
        first.close(timeout: 5)
        // Second run: the engine re-feeds the same history; the ack comes back from the log.
        let pager = try RecordingSink(name: "pager")
        let second = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [pager])
        run(second, ack: false)
        #expect(eventually { second.outbox.pendingEntries().isEmpty })
        second.close()
        #expect(pager.delivered.map(\.id) == decided, "each once, none lost")
        #expect(second.activeAlerts().first { $0.site == "RWG" }?.acknowledgement?.by == "Tom Okafor", "the ack was restored")
        // Decisions are logged once across both runs: RWH fired and escalated, RWG fired; the
        // acknowledged RWG alert escalated in neither run.
        let lines = try String(contentsOfFile: dir.file(NotificationService.logName), encoding: .utf8).split(separator: "\n")
        let notes = lines.filter { $0.hasPrefix("{\"type\":\"notification\"") }
        #expect(notes.count == 3)
        #expect(notes.filter { $0.contains("\"kind\":\"escalated\"") }.allSatisfy { $0.contains("\"site\":\"RWH\"") })
        #expect(lines.filter { $0.hasPrefix("{\"type\":\"ack\"") }.count == 1)
    }

    @Test("a notifier failing when the service stops is failing from the start of the next run, its alert since the failure that made it so; its pending delivery keeps its attempts")
    func aFailingNotifierIsStillFailingAfterARestart() throws {
        let dir = TempDir()
        let (system, n) = try bundled()
        let retry = RetryPolicy(initialBackoff: 0.01, maxBackoff: 0.02, failingAfter: 3, maxAttempts: 1_000_000)
        let down = FlakyNotifier(name: "pager", failures: 1_000_000)
        let first = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [down], retry: retry)
        run(first, ack: false)
        #expect(eventually { down.calls >= 5 })
        first.close(timeout: 5)
        let calls = down.calls
        let key = try #require(first.outbox.pendingEntries().first?.key)

        let history = try #require(AlertLog.readDeliveryHistory(dir.file(NotificationService.logName), failingAfter: 3)["pager"])
        #expect(history.consecutiveFailures == calls && history.lastError == "connection refused")
        #expect(history.attempts[key] == calls, "every attempt was at the first pending delivery (in order)")
        let failingSince = try #require(history.failingSince)

        // Second run: the pager is still down, and each attempt now waits long enough to look.
        let still = FlakyNotifier(name: "pager", failures: 1_000_000)
        let slow = RetryPolicy(initialBackoff: 60, maxBackoff: 60, failingAfter: 3, maxAttempts: 1_000_000)
        let second = try NotificationService(system: system, config: n, stateDirectory: dir.path, mode: .live, notifiers: [still], retry: slow)
        defer { second.close(timeout: 5) }
        let status = try #require(second.notifierStatus().first)
        #expect(status.failing && status.consecutiveFailures >= calls && status.lastError == "connection refused",
                "failing at once, not after three more failures")
        let alert = try #require(second.failingNotifiers(now: utc("2026-01-20T11:00:00Z")).first?.alert)
        #expect(alert.rule == "notifier_failing")
        #expect(alert.since == EventTime(failingSince))
        // The first attempt of the new run is made at once (a restart may be the mend), and it
        // counts on from the last run's attempts.
        #expect(eventually { still.calls == 1 })
        #expect(eventually { second.notifierStatus().first?.consecutiveFailures == calls + 1 })
    }

    @Test("after a restart, a notifier whose last delivery was sent is not failing, whatever failed before it")
    func aRecoveredNotifierIsNotFailingAfterARestart() throws {
        let dir = TempDir()
        let log = try AlertLog(path: dir.file("alerts.jsonl"))
        let wall = Date(timeIntervalSince1970: 1_768_900_000)
        for attempt in 1...4 {
            log.recordDelivery(key: "a@pager", notifier: "pager", outcome: "failed", attempt: attempt, error: "timeout", wall: wall)
        }
        log.recordDelivery(key: "a@pager", notifier: "pager", outcome: "sent", attempt: 5, error: nil, wall: wall)
        log.recordDelivery(key: "b@pager", notifier: "pager", outcome: "failed", attempt: 1, error: "timeout", wall: wall)
        log.recordDelivery(key: "c@teams", notifier: "teams", outcome: "gave_up", attempt: 50, error: "404", wall: wall)
        // A key with an escape is read by the full decoder: the same counts.
        log.recordDelivery(key: "say \"hi\"@pager", notifier: "pager", outcome: "failed", attempt: 7,
                           error: "refused: {\"key\":\"b@pager\"}", wall: wall.addingTimeInterval(60))
        log.close()
        let h = AlertLog.readDeliveryHistory(dir.file("alerts.jsonl"), failingAfter: 3)
        #expect(h["pager"]?.consecutiveFailures == 2 && h["pager"]?.failingSince == nil)
        #expect(h["pager"]?.attempts == ["b@pager": 1, "say \"hi\"@pager": 7] && h["pager"]?.lastSuccess == wall)
        #expect(h["pager"]?.lastError == "refused: {\"key\":\"b@pager\"}" && h["pager"]?.lastFailure == wall.addingTimeInterval(60))
        #expect(h["teams"]?.consecutiveFailures == 1 && h["teams"]?.attempts.isEmpty == true, "given up: no longer pending")
    }
}

/// Points the open descriptor of `dir/name` at /dev/full (every write: no space left on device);
/// returns what gives it its file back, or nil if it is not open.
func diskFull(_ dir: TempDir, _ name: String) -> (() -> Void)? {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    guard let fd = fds.compactMap(Int32.init).first(where: { fd in
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"))?
            .hasSuffix("/" + (dir.path as NSString).lastPathComponent + "/" + name) == true
    }) else { return nil }
    let saved = dup(fd)
    let full = open("/dev/full", O_WRONLY)
    _ = dup2(full, fd)
    close(full)
    return { _ = dup2(saved, fd); close(saved) }
}
