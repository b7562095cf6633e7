import Foundation
import Testing
@testable import FlowIngest
#if canImport(Glibc)
import Glibc
#endif

/// A disk with room for `capacity` bytes of one file, standing in for `write(2)`: a write takes
/// what fits (a short write, as a filling disk returns), and the next one, with no room left,
/// fails with `refusal` (ENOSPC). A cut back frees the room again. What the real call does on a
/// full disk, without filling one: `writeAll`'s loop, the cut back and the retry all run as in
/// production, only the system call is this one.
final class PartWayDisk: @unchecked Sendable {
    var capacity: Int
    var refusal: Int32
    private(set) var shortWrites = 0
    private(set) var refusals = 0

    init(capacity: Int = .max, refusal: Int32 = ENOSPC) {
        self.capacity = capacity
        self.refusal = refusal
    }

    func write(_ fd: Int32, _ p: UnsafeRawPointer?, _ count: Int) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return -1 }
        let room = capacity - Int(st.st_size)
        if room <= 0 {
            refusals += 1
            errno = refusal
            return -1
        }
        let n = Glibc.write(fd, p, min(count, room))
        if n >= 0 && n < count { shortWrites += 1 }
        return n
    }

    /// As `Posix.WriteCall`.
    var call: Posix.WriteCall { { self.write($0, $1, $2) } }
}

@Suite struct PartWayWriteTests {
    private func bytes(_ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
    }

    /// `count` lines of exactly 100 bytes with their `\n`, numbered from `from`.
    private func lines(_ count: Int, from: Int = 0) -> [String] {
        (from..<from + count).map { i in
            let head = "{\"id\":\"\(i)\",\"pad\":\""
            return head + String(repeating: "x", count: 99 - head.utf8.count - 2) + "\"}"
        }
    }

    private func text(_ lines: [String]) -> [UInt8] { Array(lines.map { $0 + "\n" }.joined().utf8) }

    /// An alert log opened to append (as `TransitionLog` opens it), holding `count` whole lines
    /// written by the real `write`: its path, descriptor (the caller closes it) and bytes.
    private func alertLog(in tmp: TempDir, lines count: Int) throws -> (path: String, fd: Int32, old: [UInt8]) {
        let path = tmp.file("alerts.jsonl")
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        #expect(fd >= 0)
        let old = text(lines(count))
        try old.withUnsafeBytes { try Posix.appendWhole(fd, $0, path: path) }
        #expect(bytes(path) == old)
        return (path, fd, old)
    }

    @Test("appendWhole: a write cut part-way, then refused, is cut back; the next append starts on a line of its own")
    func appendWholeCutsBackAPartWayWrite() throws {
        let tmp = TempDir()
        let (path, fd, old) = try alertLog(in: tmp, lines: 3)
        defer { close(fd) }

        // Room for 10 bytes of a 200-byte append: the first write takes 10, the next is refused.
        let disk = PartWayDisk(capacity: old.count + 10)
        let refused = text(lines(2, from: 3))
        do {
            try refused.withUnsafeBytes { try Posix.appendWhole(fd, $0, path: path, write: disk.call) }
            Issue.record("the append was not refused")
        } catch let e as IngestIOError {
            #expect(e.code == ENOSPC && e.operation == "write" && e.path == path)
        }
        #expect(disk.shortWrites == 1 && disk.refusals == 1, "cut part-way, then refused")
        #expect(bytes(path) == old, "the file is exactly what it was before the append, byte for byte")

        // Room again: the next append (the real write) follows the old contents, no fragment between.
        let next = text(lines(2, from: 5))
        try next.withUnsafeBytes { try Posix.appendWhole(fd, $0, path: path) }
        #expect(bytes(path) == old + next)
    }

    @Test("journal: a commit cut part-way by a full disk keeps only the whole lines that fit (halving); the retry writes the rest once, in order")
    func journalFullDiskPartWay() throws {
        let tmp = TempDir()
        let disk = PartWayDisk()
        let j = try Journal(configuration: .init(directory: tmp.path, syncPolicy: .none, day: { "2026-01-05" }),
                            pieceBytes: 1000) { fd, b, path in try Posix.writeAll(fd, b, path: path, write: disk.call) }
        let file = tmp.file("journal-2026-01-05.jsonl")
        let before = lines(3)
        for l in before { j.append(Array(l.utf8)) }
        #expect(try j.commit() == 3)

        // 40 lines of 100 bytes (pieces of 10 lines); room for 25.5 of them. Pieces 1 and 2 go
        // out; piece 3 is cut at 550 bytes, then refused: cut back, tried in halves: 5 lines go
        // out, the next 5 are cut at 50 bytes (cut back), then 2 lines, then 1 line: refused.
        let backlog = lines(40, from: 3)
        for l in backlog { j.append(Array(l.utf8)) }
        disk.capacity = before.count * 100 + 2550
        do {
            try j.commit()
            Issue.record("the commit was not refused")
        } catch let e as IngestIOError {
            #expect(e.code == ENOSPC)
        }
        #expect(disk.shortWrites == 4 && disk.refusals == 4, "shortWrites \(disk.shortWrites), refusals \(disk.refusals)")
        #expect(bytes(file) == text(before + backlog.prefix(25)), "whole lines only: the pieces that fitted")
        #expect(j.linesWritten == 28 && j.committedLines == 3 && j.pendingLineCount == 15)

        // Room again: the retried commit writes the rest, each line once, in order.
        disk.capacity = .max
        #expect(try j.commit() == 40)
        #expect(j.pendingByteCount == 0)
        #expect(bytes(file) == text(before + backlog), "every accepted line once, in order, byte for byte")
        try j.close()

        var read: [String] = []
        var warnings: [String] = []
        let report = try Journal.readAll(from: tmp.path, warn: { warnings.append($0) }) { line, _ in
            read.append(String(decoding: line, as: UTF8.self))
        }
        #expect(read == before + backlog)
        #expect(warnings.isEmpty && report.setAside.isEmpty, "\(warnings)")
    }

    @Test("journal: a commit cut part-way, then failed by another error (EIO), is cut back and not tried in halves")
    func journalPartWayThenIOError() throws {
        let tmp = TempDir()
        let disk = PartWayDisk(refusal: EIO)
        let j = try Journal(configuration: .init(directory: tmp.path, syncPolicy: .none, day: { "2026-01-05" })) { fd, b, path in
            try Posix.writeAll(fd, b, path: path, write: disk.call)
        }
        let file = tmp.file("journal-2026-01-05.jsonl")
        let before = lines(3)
        for l in before { j.append(Array(l.utf8)) }
        try j.commit()

        let more = lines(10, from: 3)
        for l in more { j.append(Array(l.utf8)) }
        disk.capacity = before.count * 100 + 550   // the one piece is cut at 550 bytes, then EIO
        do {
            try j.commit()
            Issue.record("the commit did not fail")
        } catch let e as IngestIOError {
            #expect(e.code == EIO)
        }
        #expect(disk.shortWrites == 1 && disk.refusals == 1, "one try: an I/O error is not a want of room")
        #expect(bytes(file) == text(before), "the part written is cut back")
        #expect(j.linesWritten == 3 && j.pendingLineCount == 10)

        disk.capacity = .max
        #expect(try j.commit() == 10)
        #expect(bytes(file) == text(before + more))
        try j.close()

        var read: [String] = []
        var warnings: [String] = []
        try Journal.readAll(from: tmp.path, warn: { warnings.append($0) }) { line, _ in
            read.append(String(decoding: line, as: UTF8.self))
        }
        #expect(read == before + more)
        #expect(warnings.isEmpty, "\(warnings)")
    }

    @Test("appendWhole: a write that takes nothing and reports no error is an I/O error, cut back, not asked again for ever")
    func aWriteOfNothingIsAnError() throws {
        let tmp = TempDir()
        let (path, fd, old) = try alertLog(in: tmp, lines: 2)
        defer { close(fd) }
        // Takes 10 bytes, then nothing (0, no error); after 1,000 such calls it fails, so that
        // a loop that asks again fails this test instead of hanging it.
        final class Calls: @unchecked Sendable { var count = 0 }
        let calls = Calls()
        let write: Posix.WriteCall = { fd, p, count in
            calls.count += 1
            if calls.count == 1 { return Glibc.write(fd, p, min(count, 10)) }
            if calls.count > 1_000 { errno = EDOM; return -1 }
            return 0
        }
        do {
            try text(lines(2, from: 2)).withUnsafeBytes { try Posix.appendWhole(fd, $0, path: path, write: write) }
            Issue.record("the append was not refused")
        } catch let e as IngestIOError {
            #expect(e.code == EIO && e.operation == "write", "\(e)")
        }
        #expect(calls.count == 2, "asked once more after the part, not again")
        #expect(bytes(path) == old, "the part written is cut back")
    }
}
