import FlowCore
import FlowIngest
import FlowLive
import Foundation
import Testing

/// The live consumer's answers to the dashboard's operator lines (`EngineConsumer.acks`): every
/// line the dashboard submits is answered, applied or refused with why, so the dashboard never
/// leaves one "queued".
@Suite struct OperatorAnswerTests {
    static func consumer() throws -> EngineConsumer {
        let config = try ConfigLoader.load(yaml: HeldJournalClockTests.yaml, file: "answers.yaml")
        return EngineConsumer(engine: FlowEngine(config: config, mode: .live), runsClock: false, journal: nil, alertLog: nil, slot: nil)
    }

    static func submit(_ c: EngineConsumer, _ a: OperatorAction) -> LineVerdict {
        let verdict = c.consume(ArraySlice(a.jsonLine.utf8), origin: LineOrigin(source: EngineConsumer.operatorSource, line: 0))
        c.batchWillCommit()
        c.batchDidEnd()
        return verdict
    }

    @Test("an acknowledgement refused for an NHS number in its note is answered as refused, with why")
    func refusedLineIsAnswered() throws {
        let c = try Self.consumer()
        let a = OperatorAction(id: "ack-1-2-3", at: WallClock.now(),
                               kind: .acknowledge(rule: "bed_feed_stale", site: "RWH", by: "Chris Adeyemi", note: "9434765919"))
        #expect(!Self.submit(c, a).isAccepted)
        let answer = try #require(c.acks.take(a.id), "the refusal reaches the dashboard, not only the log")
        #expect(answer.hasPrefix("Not acknowledged: the note looks patient-identifiable"), "\(answer)")
        #expect(c.acks.take(a.id) == nil, "taken once")
    }

    /// A tool's operator line refused for its content (no such alert, no such unit) is answered
    /// and logged, not counted as a rejected feed line, and so not the header's last rejection:
    /// the header read `rejected 1, last: ... unknown_alert` beside a count that did not hold it.
    @Test func aRefusedOperatorLineFromATCPSenderIsNotTheLastRejection() throws {
        let c = try Self.consumer()
        let a = OperatorAction(id: "silence-1", at: WallClock.now(),
                               kind: .silence(site: "RWX", rule: nil, until: WallClock.now() + .hours(1), by: "Helen", reason: "x"))
        let verdict = c.consume(ArraySlice(a.jsonLine.utf8), origin: LineOrigin(source: "tcp:127.0.0.1:5514#3", line: 1))
        #expect(!verdict.isAccepted)
        #expect(c.lastRejection == nil)
        #expect(c.engine.rejectedTotal == 0)
    }

    @Test("an acknowledgement of an alert that is not active is answered as not acknowledged")
    func inactiveAlertIsAnswered() throws {
        let c = try Self.consumer()
        let a = OperatorAction(id: "ack-4-5-6", at: WallClock.now(),
                               kind: .acknowledge(rule: "bed_feed_stale", site: "RWH", by: "Chris Adeyemi", note: "on it"))
        _ = Self.submit(c, a)
        #expect(c.acks.take(a.id) == "Not acknowledged: no active alert bed_feed_stale at RWH (it may have just cleared)")
    }

    /// An acknowledgement at a site that is not a unit of the system is answered as a silence
    /// there is (`unknown_alert`, naming the units), where it said `no_active_alert` (ops user
    /// test).
    @Test func anAckAtAnUnknownSiteIsAnUnknownAlertAsASilenceIs() throws {
        let c = try Self.consumer()
        let ack = OperatorAction(id: "ack-x", at: WallClock.now(), kind: .acknowledge(rule: "bed_feed_stale", site: "RWX", by: "Chris Adeyemi", note: nil))
        let silence = OperatorAction(id: "silence-x", at: WallClock.now(),
                                     kind: .silence(site: "RWX", rule: nil, until: WallClock.now() + .hours(1), by: "Chris Adeyemi", reason: "x"))
        let tcp = LineOrigin(source: "tcp:127.0.0.1:5514#3", line: 1)
        guard case .rejected(let ackReason) = c.consume(ArraySlice(ack.jsonLine.utf8), origin: tcp),
              case .rejected(let silenceReason) = c.consume(ArraySlice(silence.jsonLine.utf8), origin: tcp) else {
            Issue.record("both refused"); return
        }
        #expect(ackReason.hasPrefix("unknown_alert: RWX is not a unit of this system ("), "\(ackReason)")
        #expect(ackReason == silenceReason)
        // A known unit with no such alert is still no_active_alert.
        let none = OperatorAction(id: "ack-y", at: WallClock.now(), kind: .acknowledge(rule: "bed_feed_stale", site: "RWH", by: "Chris Adeyemi", note: nil))
        guard case .rejected(let noneReason) = c.consume(ArraySlice(none.jsonLine.utf8), origin: tcp) else { Issue.record("refused"); return }
        #expect(noneReason.hasPrefix("no_active_alert: "), "\(noneReason)")
    }

    /// A second acknowledgement of an alert already acknowledged replaces the first: the one
    /// giving it is told whose it replaced (the TCP answer `ok N replaced ...`, the dashboard's
    /// status line), where it replaced it without a word (ops user test).
    @Test func anAcknowledgementThatReplacesAColleaguesSaysSo() throws {
        let (c, alerts) = try HeldJournalClockTests.run(held: false)
        #expect(alerts.contains { $0.rule == "bed_feed_stale" && $0.site == "RWH" && $0.state == .firing })
        let now = WallClock.now()
        let first = OperatorAction(id: "ack-1", at: now, kind: .acknowledge(rule: "bed_feed_stale", site: "RWH", by: "Gus Ives", note: "on it"))
        #expect(Self.submit(c, first) == .accepted, "nothing to replace: a plain ok")
        let second = OperatorAction(id: "ack-2", at: now + .seconds(1),
                                    kind: .acknowledge(rule: "bed_feed_stale", site: "RWH", by: "Someone Else", note: nil))
        let verdict = Self.submit(c, second)
        guard case .acceptedNoting(let note) = verdict else { Issue.record("\(verdict)"); return }
        #expect(note.hasPrefix("replaced Gus Ives's acknowledgement of bed_feed_stale at RWH given ") && note.hasSuffix(" (on it)"), "\(note)")
        let answer = try #require(c.acks.take(second.id))
        #expect(answer == "Acknowledged bed_feed_stale at RWH by Someone Else: applied and recorded; it " + note, "\(answer)")
    }

    @Test("a silence the service applies is answered as applied")
    func appliedSilenceIsAnswered() throws {
        let c = try Self.consumer()
        let now = WallClock.now()
        let s = OperatorAction(id: "silence-7-8-9", at: now,
                               kind: .silence(site: "RWH", rule: nil, until: now + .hours(2), by: "Chris Adeyemi", reason: "diverting"))
        #expect(Self.submit(c, s).isAccepted)
        let answer = try #require(c.acks.take(s.id))
        #expect(answer.hasPrefix("Silenced every alert at RWH until ") && answer.hasSuffix(": applied and recorded"), "\(answer)")
    }

    /// A site's silence over a colleague's rule silence replaces it: the one giving it is told
    /// whose, of what, until when and why (the TCP answer `ok N replaced ...`, the dashboard's
    /// status line), where it was cut short without a word (user test, 2026-11-25).
    @Test func aSilenceThatReplacesAColleaguesSaysSo() throws {
        let c = try Self.consumer()
        let now = WallClock.now()
        let first = OperatorAction(id: "silence-1", at: now,
                                   kind: .silence(site: "RWH", rule: "bed_feed_stale", until: now + .hours(4), by: "Priya Shah", reason: "diverting"))
        #expect(Self.submit(c, first) == .accepted, "nothing in force to replace: a plain ok")
        _ = c.acks.take(first.id)
        let second = OperatorAction(id: "silence-2", at: now + .seconds(5),
                                    kind: .silence(site: "RWH", rule: nil, until: now + .minutes(30), by: "Chris Adeyemi", reason: "fire drill"))
        let verdict = Self.submit(c, second)
        guard case .acceptedNoting(let note) = verdict else { Issue.record("\(verdict)"); return }
        #expect(note.hasPrefix("replaced Priya Shah's silence of bed_feed_stale at RWH until "), "\(note)")
        #expect(note.hasSuffix(" (diverting)"), "\(note)")
        let answer = try #require(c.acks.take(second.id))
        #expect(answer.hasSuffix(": applied and recorded; it " + note), "\(answer)")
        // Ending it says what it ended; ending again, with none in force, says nothing ended.
        let end = OperatorAction(id: "silence-3", at: now + .seconds(10),
                                 kind: .silence(site: "RWH", rule: nil, until: now + .seconds(10), by: "Chris Adeyemi", reason: "over"))
        guard case .acceptedNoting(let ended) = Self.submit(c, end) else { Issue.record("no note for the end"); return }
        #expect(ended.hasPrefix("ended Chris Adeyemi's silence of every alert at RWH until "), "\(ended)")
        let again = OperatorAction(id: "silence-4", at: now + .seconds(11),
                                   kind: .silence(site: "RWH", rule: nil, until: now + .seconds(11), by: "Chris Adeyemi", reason: "over"))
        #expect(Self.submit(c, again) == .accepted)

        // A rule's silence ended under a site's in force: that one still holds it, and says so
        // (it said no silence was in force, of an alert silenced two hours more: user test).
        let site = OperatorAction(id: "silence-5", at: now + .seconds(12),
                                  kind: .silence(site: "RWH", rule: nil, until: now + .hours(2), by: "Fay Hill", reason: "drill"))
        _ = Self.submit(c, site)
        let ruleEnd = OperatorAction(id: "silence-6", at: now + .seconds(13),
                                     kind: .silence(site: "RWH", rule: "bed_feed_stale", until: now + .seconds(13), by: "Chris Adeyemi", reason: "over"))
        guard case .acceptedNoting(let still) = Self.submit(c, ruleEnd) else { Issue.record("no note under a site silence"); return }
        #expect(still.hasPrefix("nothing ended: bed_feed_stale at RWH is still silenced by Fay Hill's silence of every alert at RWH until "), "\(still)")
        #expect(still.hasSuffix(" (drill)"))
    }

    /// A producer resending 57,665 lines after a crash, each refused `duplicate_id`, wrote a
    /// log line each: 54 MB of log for one burst (the ops engineer's user test). The first 20 of
    /// a source a minute are logged; the rest of that minute together, by reason, when it is up.
    @Test func rejectedLinesAreLoggedOneByOneUpToTwentyASourceAMinute() throws {
        let c = try Self.consumer()
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let logged = Lines()
        var now: UInt64 = 1_000_000_000
        c.logRejection = { logged.all.append($0) }
        c.monotonicNanos = { now }
        for i in 1...25 {
            _ = c.consume(ArraySlice("not json \(i)".utf8), origin: LineOrigin(source: "tcp:127.0.0.1:5514#1", line: i))
        }
        _ = c.consume(ArraySlice("x".utf8), origin: LineOrigin(source: "feed.jsonl", line: 1))
        #expect(logged.all.count == 21, "\(logged.all.count)")
        #expect(logged.all.filter { $0.hasPrefix("rejected tcp:127.0.0.1:5514#1 line ") }.count == 20)
        now += 59_000_000_000
        c.tick()
        #expect(logged.all.count == 21, "not before the minute is up")
        now += 2_000_000_000
        c.tick()
        #expect(logged.all.last == "rejected tcp:127.0.0.1:5514#1 lines 21 to 25: 5 more not logged one by one (malformed 5); "
                + "the first 20 of each minute are", "\(logged.all.last ?? "")")
        #expect(logged.all.count == 22)
        // A new minute logs one by one again.
        _ = c.consume(ArraySlice("not json".utf8), origin: LineOrigin(source: "tcp:127.0.0.1:5514#1", line: 26))
        #expect(logged.all.last?.hasPrefix("rejected tcp:127.0.0.1:5514#1 line 26: ") == true, "\(logged.all.last ?? "")")
    }

    /// After a `kill -9` mid-burst the saved position of a followed file (at most a second old)
    /// was behind the journal: the restart read those lines again, and each was logged and
    /// counted as a rejected duplicate for good (286,910, the ops engineer's user test). A file
    /// resumed at a saved position skips its leading duplicates quietly, once said.
    @Test func aResumedFilesLinesAlreadyJournalledAreSkippedNotCounted() throws {
        let c = try Self.consumer()
        let now = WallClock.now()
        // The journal's recovery took lines 1-10 (here: through another source).
        for n in 1...10 { _ = c.consume(HeldJournalClockTests.bedLine(n, at: now - .seconds(Int64(60 - n))), origin: LineOrigin(source: "journal", line: n)) }
        let file = LineOrigin.fileSource("/srv/feeds/beds.jsonl")
        // Resumed at line 7 (the position saved before the crash): 7-10 read again, then 11 is new.
        for n in 7...10 {
            let v = c.consume(HeldJournalClockTests.bedLine(n, at: now - .seconds(Int64(60 - n))), origin: LineOrigin(source: file, line: n))
            #expect(!v.isAccepted)
        }
        #expect(c.engine.rejectedTotal == 0, "not counted as rejected")
        #expect(c.lastRejection == nil)
        #expect(c.consume(HeldJournalClockTests.bedLine(11, at: now - .seconds(49)), origin: LineOrigin(source: file, line: 11)) == .accepted)
        // From there a duplicate is one again.
        _ = c.consume(HeldJournalClockTests.bedLine(3, at: now - .seconds(57)), origin: LineOrigin(source: file, line: 12))
        #expect(c.engine.rejectedTotal == 1)
        // A file read from its line 1 has no catch-up: its duplicates count.
        _ = c.consume(HeldJournalClockTests.bedLine(4, at: now - .seconds(56)), origin: LineOrigin(source: LineOrigin.fileSource("/srv/b"), line: 1))
        #expect(c.engine.rejectedTotal == 2)
    }
}
