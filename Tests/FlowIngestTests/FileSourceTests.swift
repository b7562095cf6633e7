import Foundation
import Testing
@testable import FlowIngest
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct FileSourceTests {
    private func makeHub(_ c: RecordingConsumer, journalDir: String? = nil,
                         config: IngestHub.Configuration = .init(maxLineLength: 64, filePollInterval: 0.02)) throws -> IngestHub {
        let j = try journalDir.map { try Journal(configuration: .init(directory: $0, day: { "2026-01-05" })) }
        return IngestHub(consumer: c, journal: j, configuration: config)
    }

    @Test func fileReadOnceDeliversEveryLineAndJournalsTheAccepted() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "one\r\nbad two\n\n" + String(repeating: "L", count: 100) + "\nlast-no-newline")
        let c = RecordingConsumer()
        let hub = try makeHub(c, journalDir: tmp.file("journal"))
        hub.addFile(feed, follow: false)
        #expect(hub.waitForFiniteSources(timeout: 10))
        #expect(c.lines == ["one", "bad two", "last-no-newline"])
        #expect(c.entries.map(\.1) == [1, 2, 5].map { LineOrigin(source: "file:" + feed, line: $0) })
        #expect(c.rejectedBefore.map(\.0.line) == [4])
        let s = try #require(hub.statistics().sources.first { $0.kind == .file })
        #expect(s.lines == 5 && s.accepted == 2 && s.rejected == 2 && s.tooLong == 1 && s.empty == 1 && s.finished)
        hub.shutdown()
        #expect(readFile(tmp.file("journal/journal-2026-01-05.jsonl")) == "one\nlast-no-newline\n")
    }

    @Test func missingFileReadOnceFinishesWithAnError() throws {
        let c = RecordingConsumer()
        let hub = try makeHub(c)
        hub.addFile("/nonexistent/feed.jsonl", follow: false)
        #expect(hub.waitForFiniteSources(timeout: 10))
        #expect(hub.statistics().sources.first { $0.kind == .file }?.lastError != nil)
        hub.shutdown()
    }

    @Test func followedFileDeliversAppendsAndHoldsAPartialLine() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "a\n")
        let c = RecordingConsumer()
        let hub = try makeHub(c)
        defer { hub.shutdown() }
        hub.addFile(feed, follow: true)
        #expect(eventually { c.lines == ["a"] })
        appendFile(feed, "b\nc-part")
        #expect(eventually { c.lines == ["a", "b"] })
        appendFile(feed, "ial\n")
        #expect(eventually { c.lines == ["a", "b", "c-partial"] })
        #expect(c.entries.last?.1.line == 3)
    }

    @Test func followedFileCanStartAtItsEnd() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "old1\nold2\n")
        let c = RecordingConsumer()
        let hub = try makeHub(c)
        defer { hub.shutdown() }
        hub.addFile(feed, follow: true, startAtEnd: true)
        #expect(eventually { hub.statistics().sources.first { $0.kind == .file }?.bytesSkipped == 10 })
        appendFile(feed, "new\n")
        #expect(eventually { c.lines == ["new"] })
        #expect(c.entries.first?.1.line == 3)
    }

    /// One run of a service following `feed` with its journal in `tmp`: waits until the lines
    /// it took satisfy `done`, then stops. Returns what it took, and its file statistics.
    private func followRun(_ tmp: TempDir, _ feed: String, until done: ([String]) -> Bool) throws
        -> (RecordingConsumer, SourceStatistics?) {
        let c = RecordingConsumer()
        let hub = try makeHub(c, journalDir: tmp.file("journal"))
        defer { hub.shutdown() }
        hub.addFile(feed, follow: true)
        #expect(eventually { done(c.lines) }, "\(c.lines)")
        return (c, hub.statistics().sources.first { $0.kind == .file })
    }

    @Test("a followed file carries on after a restart where the last run got to, even mid-line")
    func followedFileResumesAfterARestart() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "a\nbad b\nc-part")
        _ = try followRun(tmp, feed) { $0 == ["a", "bad b"] }
        #expect(FileManager.default.fileExists(atPath: tmp.file("journal/file-positions.json")))

        appendFile(feed, "ial\nd\n")
        let (c2, s) = try followRun(tmp, feed) { $0 == ["c-partial", "d"] }
        #expect(c2.entries.map(\.1.line) == [3, 4], "line numbers carry on")
        #expect(s?.resumedAtLine == 2 && s?.bytesSkipped == 8)
    }

    /// The descriptor this process holds on `/dev/full` (the journal's, in the full-disk tests:
    /// the only tests that open it, and the suite runs its tests one at a time so that two of
    /// them never hold one each).
    /// The journal's descriptor, which writes to `/dev/full`. Its own, not the first of the
    /// process on `/dev/full`: a test of another suite running alongside (the outbox's full
    /// disk) has one too, and taking that one failed this suite now and then.
    private func devFullDescriptor(_ hub: IngestHub) -> Int32? {
        guard let fd = hub.journal?.descriptor,
              (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) == "/dev/full" else { return nil }
        return fd
    }

    /// A journal directory whose file for today is `/dev/full` (every write fails: no space left
    /// on device), a feed file holding "one" and "two", and a hub configuration whose journal
    /// backlog bound is 4 bytes.
    private func fullDisk(_ tmp: TempDir) throws -> (dir: String, today: String, feed: String, config: IngestHub.Configuration) {
        let dir = tmp.file("journal")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let today = dir + "/journal-2026-01-05.jsonl"
        try FileManager.default.createSymbolicLink(atPath: today, withDestinationPath: "/dev/full")
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "one\ntwo\n")
        return (dir, today, feed, IngestHub.Configuration(maxLineLength: 64, filePollInterval: 0.02, maxJournalBacklogBytes: 4))
    }

    /// Points the journal's descriptor `fd` (on `/dev/full`, or redirected before) at `path`.
    private func redirectJournal(_ fd: Int32, to path: String) {
        let other = open(path, O_WRONLY | O_APPEND)
        #expect(dup2(other, fd) == fd)
        close(other)
    }

    @Test("while the journal cannot write, lines are kept for the next commit up to a bound; past it a TCP sender's lines are refused, and a file's and an operator's wait; all are committed once the disk has room")
    func journalBacklogIsBoundedAndFilesWait() throws {
        let tmp = TempDir()
        let (dir, today, feed, config) = try fullDisk(tmp)
        let c = RecordingConsumer()
        var hub = try makeHub(c, journalDir: dir, config: config)
        hub.addFile(feed, follow: true)
        #expect(eventually { c.lines == ["one", "two"] })
        #expect(eventually { (hub.statistics().journalErrors) > 0 })
        #expect(hub.journal?.pendingByteCount == 8, "the first two lines are kept for a later commit")
        // Past the bound: a TCP sender's line is refused before the consumer, and the sender told
        // (it can resend) ...
        let info = try hub.addTCPListener(.init(port: 0))
        let sender = try TestClient(port: info.port)
        sender.send("sent\n")
        #expect(sender.readLines(1) == ["err 1 journal_failed"])
        // ... and the consumer told where and why (logged).
        let told = try #require(c.rejectedBefore.last)
        #expect(told.0.source.hasPrefix(info.source) && told.1.hasPrefix("journal_failed: not recorded, resend: the journal cannot write"), "\(told)")
        // An operator's line submitted in-process waits instead (no one could resend it).
        hub.submit(Array("operator".utf8))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(!c.lines.contains("operator") && hub.statistics().sources.first { $0.kind == .submitted }?.rejected == 0)
        // The consumer was told, once, that input is held (its clock waits with it).
        #expect(c.lineEvents == ["one", "two", "held"], "\(c.events)")

        // The disk has room again (the journal's descriptor now writes to a real file): the
        // lines kept are committed with no further line arriving.
        let fd = try #require(devFullDescriptor(hub))
        try FileManager.default.removeItem(atPath: today)
        writeFile(today, "")
        redirectJournal(fd, to: today)
        #expect(eventually { readFile(today) == "one\ntwo\noperator\n" })
        #expect(c.lines == ["one", "two", "operator"])
        // ... told that the journal writes again just before the line that waited was taken, in
        // the same round (a round ending between them ran the live clock's ticks without it).
        #expect(c.lineEvents == ["one", "two", "held", "writes", "operator"], "\(c.events)")
        #expect(c.events.split(separator: "writes").last?.first == "operator", "\(c.events)")
        // The file's position follows the lines into the journal (a restart does not read them again).
        #expect(eventually { readFile(dir + "/file-positions.json")?.contains("\"line\" : 2") == true })

        // Full again: a followed file's line past the bound waits instead (refused, it would be
        // lost: the file's position moves past it with the next commit that succeeds).
        redirectJournal(fd, to: "/dev/full")
        appendFile(feed, "three\n")
        #expect(eventually { c.lines == ["one", "two", "operator", "three"] && hub.journal?.pendingByteCount == 6 })
        appendFile(feed, "four\n")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(c.lines == ["one", "two", "operator", "three"], "the core does not hold it yet")
        #expect(hub.statistics().sources.first { $0.kind == .file }?.rejected == 0)
        redirectJournal(fd, to: today)
        #expect(eventually { c.lines == ["one", "two", "operator", "three", "four"] })
        #expect(eventually { readFile(today) == "one\ntwo\noperator\nthree\nfour\n" })
        #expect(c.lineEvents.suffix(4) == ["three", "held", "writes", "four"], "\(c.events)")
        #expect(c.events.split(separator: "writes").last?.first == "four", "\(c.events)")
        hub.shutdown()

        // A restart carries on after "four", the last line the journal holds.
        let c2 = RecordingConsumer()
        hub = try makeHub(c2, journalDir: dir, config: config)
        defer { hub.shutdown() }
        hub.addFile(feed, follow: true)
        appendFile(feed, "five\n")
        #expect(eventually { c2.lines == ["five"] }, "\(c2.lines)")
    }

    @Test("a journal whose commits keep failing is said once, not at every group of lines (each failure still counted), and its recovery is said")
    func failingCommitsAreSaidOnce() throws {
        let tmp = TempDir()
        let (dir, today, feed, _) = try fullDisk(tmp)
        let said = Said()
        let c = RecordingConsumer()
        let j = try Journal(configuration: .init(directory: dir, day: { "2026-01-05" }))
        // The default backlog bound: every group of lines reaches the consumer and fails to commit.
        let hub = IngestHub(consumer: c, journal: j, configuration: .init(maxLineLength: 64, filePollInterval: 0.02),
                            onError: { said.add("error: " + $0) }, onNotice: { said.add("notice: " + $0) })
        defer { hub.shutdown() }
        hub.addFile(feed, follow: true)
        #expect(eventually { c.lines.count == 2 })
        for k in 3...6 {
            appendFile(feed, "line\(k)\n")
            #expect(eventually { c.lines.count == k })
        }
        #expect(eventually { hub.statistics().journalErrors >= 5 }, "every group's failure counted: \(hub.statistics().journalErrors)")
        let failures = said.all.filter { $0.hasPrefix("error: journal commit failed: ") }
        #expect(failures.count == 1, "\(said.all)")
        #expect(failures.first?.hasSuffix("; said again every 4 minutes while it fails") == true, "\(said.all)")
        // Room again: what the journal kept is committed, and that is said.
        let fd = try #require(devFullDescriptor(hub))
        try FileManager.default.removeItem(atPath: today)
        writeFile(today, "")
        redirectJournal(fd, to: today)
        #expect(eventually { said.all.contains { $0.hasPrefix("notice: journal commits again, after ") } }, "\(said.all)")
        #expect(readFile(today) == "one\ntwo\nline3\nline4\nline5\nline6\n")
    }

    @Test("a file read once on a full disk is not finished while its lines wait for the journal: `record` would stop and drop them")
    func fileReadOnceIsNotFinishedWhileItsLinesWait() throws {
        let tmp = TempDir()
        let (dir, today, feed, config) = try fullDisk(tmp)
        let c = RecordingConsumer()
        let hub = try makeHub(c, journalDir: dir, config: config)
        defer { hub.shutdown() }
        // The journal over its bound before the file is read: its lines wait, its end with them.
        hub.submit(Array("sent-first".utf8))
        #expect(eventually { hub.journal?.pendingByteCount == 11 })
        hub.addFile(feed, follow: false)
        #expect(!hub.waitForFiniteSources(timeout: 0.5), "finished with its lines still waiting")
        #expect(c.lines == ["sent-first"])
        // Room again: the lines are taken and committed, and only then is the file finished.
        let fd = try #require(devFullDescriptor(hub))
        try FileManager.default.removeItem(atPath: today)
        writeFile(today, "")
        redirectJournal(fd, to: today)
        #expect(hub.waitForFiniteSources(timeout: 10))
        #expect(c.lines == ["sent-first", "one", "two"])
        #expect(eventually { readFile(today) == "sent-first\none\ntwo\n" })
    }

    @Test("stdin on a full disk waits for the journal, its writer held on the pipe once the queue is full; no line is lost, and it is finished only once its lines are taken")
    func stdinWaitsForTheJournalAndLosesNothing() throws {
        let tmp = TempDir()
        let (dir, today, _, _) = try fullDisk(tmp)
        let config = IngestHub.Configuration(maxLineLength: 64, queueCapacityBytes: 4096, filePollInterval: 0.02,
                                             maxJournalBacklogBytes: 4)
        let c = RecordingConsumer()
        let hub = try makeHub(c, journalDir: dir, config: config)
        defer { hub.shutdown() }
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        hub.addDescriptor(fds[0], name: "stdin")
        let w = FileHandle(fileDescriptor: fds[1], closeOnDealloc: true)
        // The first line is taken, and kept for a later commit: the journal is over its bound.
        w.write(Data("first\n".utf8))
        #expect(eventually { c.lines == ["first"] && hub.statistics().journalErrors > 0 })
        // 460 KB more: one batch of 4,096 lines is held, the reader waits for the next with the
        // queue full, and the pipe's 64 KB fill: the writer waits on the pipe.
        let lines = (1...20_000).map { String(format: "stdin-line-%012d", $0) }
        let writing = DispatchGroup()
        writing.enter()
        Thread.detachNewThread {
            w.write(Data(lines.joined(separator: "\n").appending("\n").utf8))
            try? w.close()
            writing.leave()
        }
        #expect(writing.wait(timeout: .now() + 0.5) == .timedOut, "the writer waits on the pipe")
        #expect(c.lines == ["first"], "the core does not hold them yet")
        #expect(!hub.waitForFiniteSources(timeout: 0.2))
        let stdin = { hub.statistics().sources.first { $0.source == "stdin" } }
        #expect(stdin()?.rejected == 0, "none refused: a writer into stdin cannot resend")

        // Room again: every line is taken in order and journalled, and only then is stdin finished.
        let fd = try #require(devFullDescriptor(hub))
        try FileManager.default.removeItem(atPath: today)
        writeFile(today, "")
        redirectJournal(fd, to: today)
        #expect(writing.wait(timeout: .now() + 10) == .success)
        #expect(hub.waitForFiniteSources(timeout: 10))
        // (Compared as a whole, not printed: 20,001 lines.)
        let taken = c.lines
        #expect(taken == ["first"] + lines, "\(taken.count) lines taken")
        #expect(eventually { readFile(today) == (["first"] + lines).joined(separator: "\n") + "\n" }, "the journal holds them all")
        #expect(stdin()?.accepted == lines.count + 1 && stdin()?.rejected == 0)
    }

    @Test("a followed file's position is written within a second or so of its last line, without waiting for another line or the stop")
    func positionIsSavedWhenQuiet() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "a\n")
        let c = RecordingConsumer()
        let hub = try makeHub(c, journalDir: tmp.file("journal"))
        defer { hub.shutdown() }
        hub.addFile(feed, follow: true)
        let positions = tmp.file("journal/file-positions.json")
        #expect(eventually { readFile(positions)?.contains("\"line\" : 1") == true })
        appendFile(feed, "b\n")   // within the second after the first write: held back by the throttle
        #expect(eventually(within: 5) { readFile(positions)?.contains("\"line\" : 2") == true }, "\(readFile(positions) ?? "none")")
    }

    @Test("a file read once with a journal is not read again by the next run, only what was appended")
    func readOnceFileResumes() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "a\nb\n")
        for (expected, appended) in [(["a", "b"], "c\n"), (["c"], "")] {
            let c = RecordingConsumer()
            let hub = try makeHub(c, journalDir: tmp.file("journal"))
            hub.addFile(feed, follow: false)
            #expect(hub.waitForFiniteSources(timeout: 10))
            hub.shutdown()
            #expect(c.lines == expected)
            appendFile(feed, appended)
        }
    }

    @Test("a followed file replaced or cut short while the service was down is read from its start")
    func replacedOrShortenedFileIsReadAgain() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "a1\na2\na3\n")
        _ = try followRun(tmp, feed) { $0.count == 3 }

        // Replaced (a new inode).
        try FileManager.default.removeItem(atPath: feed)
        writeFile(feed, "b1\n")
        _ = try followRun(tmp, feed) { $0 == ["b1"] }

        // Cut short in place (same inode, shorter than the position).
        let fd = open(feed, O_WRONLY | O_TRUNC)
        _ = "c\n".withCString { write(fd, $0, 2) }
        close(fd)
        let (c3, _) = try followRun(tmp, feed) { $0 == ["c"] }
        #expect(c3.entries.first?.1.line == 1)
    }

    /// A file deleted and another made while the service was down can take the old one's freed
    /// inode number: it was read from the saved position as the same file, its first lines
    /// never read (the operators' user test). The same inode holding another file is made here
    /// by writing the file again in place; the position's fingerprint of the file's start tells
    /// them apart. A position file from before the fingerprint still resumes.
    @Test("a followed file whose inode now holds another file (its start differs) is read from its start, and said")
    func anotherFileUnderTheSameInodeIsReadFromItsStart() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "a1\na2\na3\n")
        _ = try followRun(tmp, feed) { $0.count == 3 }
        let positions = tmp.file("journal/file-positions.json")
        #expect((try? String(contentsOfFile: positions, encoding: .utf8))?.contains("\"headLength\" : 9") == true)

        let fd = open(feed, O_WRONLY | O_TRUNC)
        _ = "b1\nb2\nb3\nb4\n".withCString { write(fd, $0, 12) }
        close(fd)
        let (c, s) = try followRun(tmp, feed) { $0 == ["b1", "b2", "b3", "b4"] }
        #expect(c.entries.first?.1.line == 1)
        #expect(s?.lastError?.contains("took the old one's inode number") == true, "\(s?.lastError ?? "none")")

        // Written before positions had a fingerprint: resumed as before.
        let old = try String(contentsOfFile: positions, encoding: .utf8)
        let stripped = old.split(separator: "\n").filter { !$0.contains("\"head") }.joined(separator: "\n")
        try stripped.write(toFile: positions, atomically: true, encoding: .utf8)
        appendFile(feed, "b5\n")
        let (c2, _) = try followRun(tmp, feed) { $0 == ["b5"] }
        #expect(c2.entries.first?.1.line == 5)
    }

    /// Rotated while the service was down (logrotate during a restart): the lines written to the
    /// old file after the last one read were never read, without a word (the operators' user test).
    @Test("a followed file rotated while the service was down: the rest of the old file first, then the new one")
    func rotatedWhileDownIsReadOnFromTheOldFile() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "a1\na2\n")
        _ = try followRun(tmp, feed) { $0 == ["a1", "a2"] }
        // Down: two more lines, then the rotation.
        appendFile(feed, "a3\na4\n")
        try FileManager.default.moveItem(atPath: feed, toPath: feed + ".1")
        writeFile(feed, "b1\n")
        let (c, s) = try followRun(tmp, feed) { $0 == ["a3", "a4", "b1"] }
        #expect(c.entries.map(\.1.line) == [3, 4, 1], "the old file's numbers carry on; the new file's start at 1")
        #expect(s?.lastError == nil)

        // Rotated and the old file taken away (compressed, deleted): the new file, and it is said.
        appendFile(feed, "b2\n")
        // The new file made before the old one goes: an inode freed first can be the new file's
        // (the same device and inode, taken for the file read before).
        writeFile(feed + ".new", "c1\n")
        #expect(rename(feed + ".new", feed) == 0)
        let (_, s2) = try followRun(tmp, feed) { $0 == ["c1"] }
        #expect(s2?.lastError?.contains("replaced while urgentflow was stopped") == true, "\(s2?.lastError ?? "none")")
    }

    @Test func followSurvivesRotation() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "a1\na2\n")
        let c = RecordingConsumer()
        let hub = try makeHub(c)
        defer { hub.shutdown() }
        hub.addFile(feed, follow: true)
        #expect(eventually { c.lines == ["a1", "a2"] })
        // logrotate: rename, the writer still appends to the old file for a moment, then a new file.
        #expect(rename(feed, feed + ".1") == 0)
        appendFile(feed + ".1", "a3-late\n")
        writeFile(feed, "b1\nb2\n")
        #expect(eventually { c.lines == ["a1", "a2", "a3-late", "b1", "b2"] })
        #expect(c.entries.map(\.1.line) == [1, 2, 3, 1, 2])
        #expect(hub.statistics().sources.first { $0.kind == .file }?.rotations == 1)
        appendFile(feed, "b3\n")
        #expect(eventually { c.lines.last == "b3" })
    }

    @Test func followSurvivesTruncation() throws {
        let tmp = TempDir()
        let feed = tmp.file("feed.jsonl")
        writeFile(feed, "first line\nsecond line\n")
        let c = RecordingConsumer()
        let hub = try makeHub(c)
        defer { hub.shutdown() }
        hub.addFile(feed, follow: true)
        #expect(eventually { c.lines.count == 2 })
        #expect(truncate(feed, 0) == 0)
        #expect(eventually { hub.statistics().sources.first { $0.kind == .file }?.truncations == 1 })
        appendFile(feed, "x\n")
        #expect(eventually { c.lines == ["first line", "second line", "x"] })
        #expect(c.entries.last?.1.line == 1)
    }

    @Test func pipeSourceLikeStdin() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let c = RecordingConsumer()
        let hub = try makeHub(c)
        hub.addDescriptor(fds[0], name: "stdin")
        let w = FileHandle(fileDescriptor: fds[1], closeOnDealloc: true)
        w.write(Data("p1\r\np2\n".utf8))
        #expect(eventually { c.lines == ["p1", "p2"] })
        w.write(Data("bad p3\np4-no-newline".utf8))
        try w.close()
        #expect(hub.waitForFiniteSources(timeout: 10))
        #expect(c.lines == ["p1", "p2", "bad p3", "p4-no-newline"])
        #expect(c.entries.allSatisfy { $0.1.source == "stdin" })
        let s = try #require(hub.statistics().sources.first { $0.source == "stdin" })
        #expect(s.accepted == 3 && s.rejected == 1 && s.finished)
        hub.shutdown()
    }

    @Test func floodingFileIsBackPressuredNotBufferedAndLosesNothing() throws {
        let tmp = TempDir()
        let feed = tmp.file("flood.jsonl")
        let n = 100_000
        writeFile(feed, (0..<n).map { "line-\($0)-" + String(repeating: "q", count: 40) }.joined(separator: "\n") + "\n")
        let c = RecordingConsumer(delayPerBatch: 0.002)
        let hub = try makeHub(c, config: .init(maxLineLength: 1024, queueCapacityBytes: 64 * 1024, filePollInterval: 0.02))
        hub.addFile(feed, follow: false)
        var maxQueued = 0
        let done = eventually(within: 30) {
            maxQueued = max(maxQueued, hub.statistics().queuedBytes)
            return c.lines.count == n
        }
        #expect(done)
        #expect(hub.waitForFiniteSources(timeout: 10))
        let lines = c.lines
        #expect(lines.first == "line-0-" + String(repeating: "q", count: 40))
        #expect(zip(lines, lines.indices).allSatisfy { $0.0.hasPrefix("line-\($0.1)-") })
        let s = try #require(hub.statistics().sources.first { $0.kind == .file })
        #expect(s.throttled > 0)
        // Bounded: at most the capacity plus one batch (< 192 KiB of bytes + ~5,500 entries),
        // far below the 4.8 MB file.
        #expect(maxQueued <= 64 * 1024 + 512 * 1024)
        hub.shutdown()
    }

    @Test func recorderWritesOnlyTheJournal() throws {
        let tmp = TempDir()
        let a = tmp.file("a.jsonl"), b = tmp.file("b.jsonl")
        writeFile(a, "a1\n\na2\n")
        writeFile(b, "b1\r\n")
        let j = try Journal(configuration: .init(directory: tmp.file("j"), day: { "2026-01-05" }))
        let hub = try IngestHub.recorder(inputs: [a, b], follow: false, journal: j)
        #expect(hub.waitForFiniteSources(timeout: 10))
        hub.shutdown()
        let lines = (readFile(tmp.file("j/journal-2026-01-05.jsonl")) ?? "").split(separator: "\n").sorted()
        #expect(lines == ["a1", "a2", "b1"])
        #expect(throws: (any Error).self) {
            _ = try IngestHub.recorder(inputs: ["tcp:256.1.1.1:5514"], follow: false, journal: j)
        }
    }

    @Test func tickIsCalledOnTheConsumerThreadWithoutInput() throws {
        let c = RecordingConsumer()
        let hub = IngestHub(consumer: c, journal: nil, configuration: .init(tickInterval: 0.01))
        #expect(eventually { c.ticks >= 3 })
        hub.shutdown()
    }

    @Test func performAndSubmitRunInOrderOnTheConsumer() throws {
        let tmp = TempDir()
        let c = RecordingConsumer()
        let hub = try makeHub(c, journalDir: tmp.path)
        hub.submit(Array("op-1".utf8))
        let flag = DayClock("no")
        hub.perform { flag.set(c.lines.joined(separator: ",")) }
        #expect(eventually { flag.now == "op-1" })
        hub.shutdown()
        #expect(readFile(tmp.file("journal-2026-01-05.jsonl")) == "op-1\n")
    }
}
