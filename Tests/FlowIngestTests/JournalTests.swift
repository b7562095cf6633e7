import Foundation
import Testing
@testable import FlowIngest

@Suite struct JournalTests {
    private func readBack(_ dir: String, repair: Bool = true) throws -> ([String], Journal.ReadReport, [String]) {
        var lines: [String] = []
        var warnings: [String] = []
        let report = try Journal.readAll(from: dir, repair: repair, warn: { warnings.append($0) }) { line, _ in
            lines.append(String(decoding: line, as: UTF8.self))
        }
        return (lines, report, warnings)
    }

    @Test("one writer per journal: a second lock is refused naming the holder, and freed when the holder goes")
    func journalLock() throws {
        let tmp = TempDir()
        var first: JournalLock? = try JournalLock(directory: tmp.path)
        #expect(throws: JournalLockError.inUse(directory: tmp.path, pid: getpid())) { _ = try JournalLock(directory: tmp.path) }
        #expect(first != nil)
        first = nil
        let again = try JournalLock(directory: tmp.path)
        #expect(FileManager.default.fileExists(atPath: again.path))
        // The lock file is not a journal file.
        #expect(try Journal.files(in: tmp.path).isEmpty)
    }

    @Test("after a full disk, a backlog goes out in pieces of whole lines as room appears, not only once all of it fits")
    func backlogGoesOutAsRoomAppears() throws {
        let tmp = TempDir()
        let j = try Journal(configuration: .init(directory: tmp.path, syncPolicy: .none, day: { "2026-01-05" }), pieceBytes: 1024)
        // The journal's descriptor now writes into a pipe that takes 64 KB until it is read: a
        // disk with room for some of the backlog at a time. (Pieces under 4 KB: a pipe takes
        // each whole or not at all, as a file cut back after a short write ends up.)
        let path = URL(fileURLWithPath: tmp.file("journal-2026-01-05.jsonl")).standardizedFileURL.path
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        let fd = try #require(fds.compactMap(Int32.init).first {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path
        })
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        #expect(fcntl(ends[0], F_SETFL, O_NONBLOCK) == 0 && fcntl(ends[1], F_SETFL, O_NONBLOCK) == 0)
        #expect(dup2(ends[1], fd) == fd)
        close(ends[1])
        let sent = (0..<2000).map { i in "{\"id\":\"\(i)\",\"pad\":\"\(String(repeating: "x", count: 80))\"}" }
        for line in sent { j.append(Array(line.utf8)) }
        let total = j.pendingByteCount
        #expect(total > 128 * 1024)
        var out: [UInt8] = []
        func drain() {
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(ends[0], &chunk, chunk.count)
                if n <= 0 { break }
                out += chunk[0..<n]
            }
        }
        var failures = 0, progress: [Int] = []
        while true {
            do { try j.commit(); break } catch { failures += 1 }
            progress.append(j.pendingByteCount)
            #expect(j.pendingByteCount < (progress.dropLast().last ?? total), "each retry moves some of the backlog out")
            drain()
            #expect(failures < 50)
            if failures >= 50 { break }
        }
        drain()
        #expect(failures >= 2, "the pipe took the backlog in several goes")
        #expect(j.pendingByteCount == 0)
        #expect(String(decoding: out, as: UTF8.self) == sent.joined(separator: "\n") + "\n", "every line once, whole, in order")
        #expect(j.committedLines == sent.count)
    }

    @Test("a disk with less room than a piece still takes the whole lines that fit; the rest goes out as room appears")
    func lessRoomThanAPiece() throws {
        let tmp = TempDir()
        // A disk holding `capacity` bytes of journal: a write takes what fits, then fails for
        // want of room (a cut back frees the room again).
        final class Disk: @unchecked Sendable { var capacity = 0; var refusals = 0 }
        let disk = Disk()
        let j = try Journal(configuration: .init(directory: tmp.path, syncPolicy: .none, day: { "2026-01-05" })) { fd, bytes, path in
            var st = stat()
            #expect(fstat(fd, &st) == 0)
            let n = max(0, min(bytes.count, disk.capacity - Int(st.st_size)))
            if n > 0, let base = bytes.baseAddress { #expect(write(fd, base, n) == n) }
            if n < bytes.count { disk.refusals += 1; throw IngestIOError("write", path: path, code: ENOSPC) }
        }
        let sent = (0..<2000).map { i in "{\"id\":\"\(i)\",\"pad\":\"\(String(repeating: "x", count: 80))\"}" }
        for line in sent { j.append(Array(line.utf8)) }
        let file = tmp.file("journal-2026-01-05.jsonl")
        // 50 KB free, the backlog about 190 KB (one piece of the default 1 MB).
        disk.capacity = 50_000
        #expect(throws: IngestIOError.self) { try j.commit() }
        let first = try #require(readFile(file))
        #expect(first.utf8.count > 50_000 - 200 && first.utf8.count <= 50_000, "the lines that fit went out: \(first.utf8.count) bytes")
        #expect(first == sent.prefix(first.split(separator: "\n").count).joined(separator: "\n") + "\n", "whole lines, in order")
        #expect(j.linesWritten == first.split(separator: "\n").count && j.committedLines == 0, "the lines in the file are counted as written")
        // Room for the rest, a little at a time.
        var tries = 0
        while j.pendingByteCount > 0 && tries < 20 {
            disk.capacity += 30_000
            tries += 1
            _ = try? j.commit()
        }
        #expect(j.pendingByteCount == 0)
        #expect(readFile(file) == sent.joined(separator: "\n") + "\n", "every line once, whole, in order")
        #expect(disk.refusals > 2)
    }

    @Test func appendsCommitsAndRollsOverByDay() throws {
        let tmp = TempDir()
        let clock = DayClock("2026-01-05")
        let j = try Journal(configuration: .init(directory: tmp.path, day: { clock.now }))
        j.append(Array("{\"id\":\"1\"}".utf8))
        j.append(Array("{\"id\":\"2\"}".utf8))
        #expect(j.pendingLineCount == 2)
        #expect(try j.commit() == 2)
        #expect(readFile(tmp.file("journal-2026-01-05.jsonl")) == "{\"id\":\"1\"}\n{\"id\":\"2\"}\n")
        clock.set("2026-01-06")
        j.append(Array("{\"id\":\"3\"}".utf8))
        try j.commit()
        #expect(j.currentDay == "2026-01-06")
        #expect(readFile(tmp.file("journal-2026-01-06.jsonl")) == "{\"id\":\"3\"}\n")
        #expect(readFile(tmp.file("journal-2026-01-05.jsonl")) == "{\"id\":\"1\"}\n{\"id\":\"2\"}\n")
        try j.close()

        let (lines, report, warnings) = try readBack(tmp.path)
        #expect(lines == ["{\"id\":\"1\"}", "{\"id\":\"2\"}", "{\"id\":\"3\"}"])
        #expect(report.files == 2 && report.lines == 3)
        #expect(warnings.isEmpty)
    }

    @Test func reopeningTheSameDayAppends() throws {
        let tmp = TempDir()
        let clock = DayClock("2026-01-05")
        do {
            let j = try Journal(configuration: .init(directory: tmp.path, day: { clock.now }))
            j.append(Array("a".utf8)); try j.close()
        }
        let j = try Journal(configuration: .init(directory: tmp.path, day: { clock.now }))
        j.append(Array("b".utf8)); try j.close()
        #expect(readFile(tmp.file("journal-2026-01-05.jsonl")) == "a\nb\n")
    }

    @Test func readBackIsInDayOrderNotDirectoryOrder() throws {
        let tmp = TempDir()
        writeFile(tmp.file("journal-2026-01-10.jsonl"), "c\n")
        writeFile(tmp.file("journal-2025-12-31.jsonl"), "a\n\nb\n")
        writeFile(tmp.file("journal-2026-01-02.jsonl"), "b2\n")
        writeFile(tmp.file("notes.txt"), "ignored\n")
        writeFile(tmp.file("journal-2026-13-01.jsonl"), "bad name\n")
        var origins: [LineOrigin] = []
        var lines: [String] = []
        try Journal.readAll(from: tmp.path) { line, origin in
            lines.append(String(decoding: line, as: UTF8.self)); origins.append(origin)
        }
        #expect(lines == ["a", "b", "b2", "c"])
        #expect(origins[1] == LineOrigin(source: "journal:" + tmp.file("journal-2025-12-31.jsonl"), line: 3))
    }

    /// A line of only whitespace is skipped as an empty line is (`FeedLine.isEmpty`): the live
    /// service never journals one, but a journal edited by hand was recovered with it refused
    /// as malformed, where `replay` of the same file counts it as empty.
    @Test func readBackSkipsALineOfOnlyWhitespace() throws {
        let tmp = TempDir()
        writeFile(tmp.file("journal-2026-01-05.jsonl"), "a\n   \n\t\r\n\nb\n")
        let (lines, report, _) = try readBack(tmp.path)
        #expect(lines == ["a", "b"] && report.lines == 2)
    }

    @Test func retentionDeletesOldDaysOnOpenAndOnRollOver() throws {
        let tmp = TempDir()
        for d in ["2026-01-01", "2026-01-03", "2026-01-04"] { writeFile(tmp.file("journal-\(d).jsonl"), "x\n") }
        writeFile(tmp.file("journal-2026-01-01.partial"), "half\n")
        let clock = DayClock("2026-01-05")
        let j = try Journal(configuration: .init(directory: tmp.path, retentionDays: 3, day: { clock.now }))
        var names = try Journal.files(in: tmp.path, includePartial: true).map(\.day)
        #expect(names == ["2026-01-03", "2026-01-04", "2026-01-05"])
        clock.set("2026-01-06")
        j.append(Array("y".utf8))
        try j.commit()
        names = try Journal.files(in: tmp.path, includePartial: true).map(\.day)
        #expect(names == ["2026-01-04", "2026-01-05", "2026-01-06"])
        try j.close()
    }

    @Test func halfWrittenLastLineIsSetAsideNotFatal() throws {
        let tmp = TempDir()
        writeFile(tmp.file("journal-2026-01-04.jsonl"), "a\nb\n{\"feed\":\"bed\",\"id\":\"x")
        writeFile(tmp.file("journal-2026-01-05.jsonl"), "c\n")
        let (lines, report, warnings) = try readBack(tmp.path)
        #expect(lines == ["a", "b", "c"])
        #expect(report.setAside.count == 1)
        #expect(report.setAside.first?.byteCount == 21)
        #expect(warnings.count == 1)
        #expect(readFile(tmp.file("journal-2026-01-04.jsonl")) == "a\nb\n")
        #expect(readFile(tmp.file("journal-2026-01-04.partial")) == "{\"feed\":\"bed\",\"id\":\"x\n")
        // Idempotent: nothing more to set aside.
        let again = try readBack(tmp.path)
        #expect(again.1.setAside.isEmpty && again.0 == lines)
    }

    @Test func readingWithoutRepairSkipsTheTailAndLeavesFilesAlone() throws {
        let tmp = TempDir()
        writeFile(tmp.file("journal-2026-01-04.jsonl"), "a\nhal")
        let (lines, report, warnings) = try readBack(tmp.path, repair: false)
        #expect(lines == ["a"])
        #expect(report.setAside.isEmpty)
        #expect(warnings.count == 1)
        #expect(readFile(tmp.file("journal-2026-01-04.jsonl")) == "a\nhal")
    }

    @Test func openingRepairsTodaysFileBeforeAppending() throws {
        let tmp = TempDir()
        writeFile(tmp.file("journal-2026-01-05.jsonl"), "a\n{\"cut")
        var warnings: [String] = []
        let j = try Journal(configuration: .init(directory: tmp.path, day: { "2026-01-05" }), warn: { warnings.append($0) })
        #expect(j.recovered.count == 1)
        #expect(warnings.count == 1)
        j.append(Array("b".utf8))
        try j.close()
        #expect(readFile(tmp.file("journal-2026-01-05.jsonl")) == "a\nb\n")
    }

    @Test func replayFeedsAConsumer() throws {
        let tmp = TempDir()
        writeFile(tmp.file("journal-2026-01-05.jsonl"), "one\nbad two\nthree\n")
        let c = RecordingConsumer()
        let r = try Journal.replay(from: tmp.path, into: c)
        #expect(c.lines == ["one", "bad two", "three"])
        #expect(r.accepted == 2 && r.rejected == 1)
    }

    @Test func largeJournalCrossesChunkBoundaries() throws {
        let tmp = TempDir()
        let line = String(repeating: "z", count: 129)
        let j = try Journal(configuration: .init(directory: tmp.path, syncPolicy: .none, day: { "2026-01-05" }))
        for i in 0..<20_000 { j.append(Array("\(i) \(line)".utf8)) }
        try j.close()
        var n = 0
        var ok = true
        try Journal.readAll(from: tmp.path) { l, _ in
            if !String(decoding: l, as: UTF8.self).hasPrefix("\(n) ") { ok = false }
            n += 1
        }
        #expect(n == 20_000)
        #expect(ok)
    }
}
