#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import FlowCore

/// The on-disk record of every accepted line.
///
/// - One file per local day, `journal-YYYY-MM-DD.jsonl`, in `directory`. Each line is written
///   byte-for-byte as received (minus its `\n`/`\r\n` terminator, plus `\n`), so a journal file is
///   a feed-contract file that replay and `urgentflow check` read like any scenario.
/// - Appends are buffered in memory and made durable by `commit()` (group commit: one `write`
///   and, with `.everyCommit`, one `fdatasync` for the whole group). The ingest hub acknowledges
///   a TCP line only after the commit that contains it returned.
/// - Roll-over: at each commit the `day` closure is asked for today's local day; when it changed,
///   the group goes into the new day's file and retention runs.
/// - Retention: with `retentionDays = N`, files of days more than N-1 days before today are
///   deleted (today plus the N-1 previous days are kept); `nil` keeps everything.
/// - Crash recovery: a file whose last line has no `\n` (a write cut by a crash) has that tail
///   moved to `journal-YYYY-MM-DD.partial` (appended, one fragment a line) and the file is
///   truncated to its last complete line; a warning is reported, ingest carries on.
///
/// Not thread-safe by design beyond a lock around each call: the hub's consumer thread owns it.
public final class Journal: @unchecked Sendable {
    public enum SyncPolicy: Sendable, Equatable {
        /// `write` + `fdatasync` at every commit (default; what acknowledgements rely on).
        case everyCommit
        /// `write` at every commit, never `fsync` (the OS flushes; survives a process crash,
        /// not a power cut). For benchmarks and tests.
        case none
    }

    public struct Configuration: Sendable {
        public var directory: String
        public var retentionDays: Int?
        public var syncPolicy: SyncPolicy
        /// Today's local day as `YYYY-MM-DD`; e.g. the core's LocalCalendar applied to the wall
        /// clock. Called once per commit. Default: the process time zone (`TZ`).
        public var day: @Sendable () -> String

        public init(directory: String, retentionDays: Int? = nil, syncPolicy: SyncPolicy = .everyCommit,
                    day: @escaping @Sendable () -> String = Journal.systemLocalDay) {
            self.directory = directory
            self.retentionDays = retentionDays
            self.syncPolicy = syncPolicy
            self.day = day
        }
    }

    /// A tail set aside during recovery.
    public struct SetAside: Sendable, Equatable {
        public var file: String
        public var partialFile: String
        public var byteCount: Int
    }

    /// Today as `YYYY-MM-DD` in the process's time zone (`TZ`).
    @Sendable public static func systemLocalDay() -> String { Posix.localDayString() }

    public static let filePrefix = "journal-"
    public static let fileSuffix = ".jsonl"
    public static let partialSuffix = ".partial"

    public let configuration: Configuration
    private let lock = Lock()
    private var fd: Int32 = -1
    /// Today's file descriptor: the full-disk tests point it at `/dev/full` and back.
    var descriptor: Int32 { lock.withLock { fd } }
    /// Bytes in today's file after the last complete write (a failed write is cut back to it).
    private var fileSize: off_t = 0
    public private(set) var currentDay: String
    private var buffer: [UInt8] = []
    private var bufferedLines = 0
    /// Lines written since the last commit (by pieces of a commit that failed later, too).
    private var writtenLines = 0
    /// The most bytes one `write` takes (whole lines; see `writeBufferLocked`).
    let pieceBytes: Int
    /// Writes all of a piece or throws (`Posix.writeAll`; a test stands in a disk nearly full).
    let writeAll: (Int32, UnsafeRawBufferPointer, String) throws -> Void
    /// Lines made durable (per policy) since this journal was opened.
    public private(set) var committedLines = 0
    public private(set) var commits = 0
    /// Lines written to the journal's files since it was opened: those committed, and those
    /// written by pieces of a commit that failed later (a full disk), which are in the file but
    /// not yet synced. What a stop reports as recorded: those pieces were not counted.
    public var linesWritten: Int { lock.withLock { committedLines + writtenLines } }
    /// Tails set aside when the journal was opened.
    public let recovered: [SetAside]

    /// Opens (creating the directory if needed), repairs half-written tails, applies retention
    /// and opens today's file for appending.
    public convenience init(configuration: Configuration, warn: (String) -> Void = { _ in }, pieceBytes: Int = 1 << 20) throws {
        try self.init(configuration: configuration, warn: warn, pieceBytes: pieceBytes, writeAll: Posix.writeAll)
    }

    init(configuration: Configuration, warn: (String) -> Void = { _ in }, pieceBytes: Int = 1 << 20,
         writeAll: @escaping (Int32, UnsafeRawBufferPointer, String) throws -> Void) throws {
        self.configuration = configuration
        self.pieceBytes = max(1, pieceBytes)
        self.writeAll = writeAll
        try Posix.mkdirs(configuration.directory)
        self.recovered = try Journal.setAsidePartialTails(in: configuration.directory, warn: warn)
        self.currentDay = configuration.day()
        try openCurrent()
        applyRetention()
    }

    deinit {
        if fd >= 0 { sysClose(fd) }
    }

    public var currentFilePath: String { Journal.path(directory: configuration.directory, day: currentDay) }

    public static func path(directory: String, day: String) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + filePrefix + day + fileSuffix
    }

    /// Buffer one line (without its terminator). Durable after the next `commit()`.
    public func append(_ line: UnsafeRawBufferPointer) {
        lock.withLock {
            buffer.append(contentsOf: line)
            buffer.append(0x0A)
            bufferedLines += 1
        }
    }

    public func append(_ line: ArraySlice<UInt8>) {
        line.withUnsafeBytes { append($0) }
    }

    public func append(_ line: [UInt8]) {
        line.withUnsafeBytes { append($0) }
    }

    public var pendingLineCount: Int { lock.withLock { bufferedLines } }
    /// Bytes appended and not yet written (more than a group's worth only while commits fail).
    public var pendingByteCount: Int { lock.withLock { buffer.count } }

    /// Group commit: roll over if the day changed, write everything buffered, then fsync per
    /// policy. Returns the number of lines committed.
    @discardableResult
    public func commit() throws -> Int {
        try lock.withLock { try commitLocked(forceSync: false) }
    }

    /// Write buffered lines without fsync.
    public func flush() throws {
        try lock.withLock { try writeBufferLocked() }
    }

    /// Write buffered lines and fsync, whatever the policy.
    public func sync() throws {
        try lock.withLock { _ = try commitLocked(forceSync: true) }
    }

    /// Sync and close. Further appends are lost; commits throw.
    public func close() throws {
        try lock.withLock {
            _ = try commitLocked(forceSync: true)
            if fd >= 0 {
                sysClose(fd)
                fd = -1
            }
        }
    }

    private func commitLocked(forceSync: Bool) throws -> Int {
        let today = configuration.day()
        if today != currentDay, fd >= 0 {
            try Posix.dataSync(fd, path: currentFilePath)
            sysClose(fd)
            fd = -1
            currentDay = today
            try openCurrent()
            applyRetention()
        }
        guard bufferedLines > 0 || writtenLines > 0 || forceSync else { return 0 }
        try writeBufferLocked()
        if forceSync || configuration.syncPolicy == .everyCommit {
            try Posix.dataSync(fd, path: currentFilePath)
        }
        let n = writtenLines
        writtenLines = 0
        committedLines += n
        commits += 1
        return n
    }

    /// Writes the buffer in pieces of whole lines (`pieceBytes` at most, or one longer line).
    /// A piece written stays written and leaves the buffer: after a full disk, a backlog of up to
    /// `IngestHub.Configuration.maxJournalBacklogBytes` goes out as room appears, not only once
    /// there is room for all of it. A piece cut part-way is cut back off the file (the retry
    /// would glue its fragment to the piece's first line). A piece refused for want of room is
    /// tried again in halves, down to one line: a disk with less room than a piece still takes
    /// the lines that fit.
    private func writeBufferLocked() throws {
        guard !buffer.isEmpty else { return }
        guard fd >= 0 else { throw IngestIOError("write", path: currentFilePath, code: EBADF) }
        var done = 0, lines = 0
        defer {
            if done == buffer.count {
                buffer.removeAll(keepingCapacity: buffer.capacity <= 8 << 20)
            } else if done > 0 {
                buffer.removeFirst(done)
            }
            bufferedLines -= lines
            writtenLines += lines
        }
        var limit = pieceBytes
        try buffer.withUnsafeBytes { all in
            while done < all.count {
                // The piece ends after the last `\n` within `limit`, or after the first one past
                // it (a line longer than a piece); the buffer ends with one.
                var end = min(all.count, done + limit)
                if end < all.count {
                    var e = end
                    while e > done, all[e - 1] != 0x0A { e -= 1 }
                    if e == done {
                        e = end
                        while e < all.count, all[e - 1] != 0x0A { e += 1 }
                    }
                    end = e
                }
                let piece = UnsafeRawBufferPointer(rebasing: all[done..<end])
                do {
                    try writeAll(fd, piece, currentFilePath)
                } catch {
                    _ = ftruncate(fd, fileSize)
                    let noRoom = (error as? IngestIOError).map { [ENOSPC, EDQUOT, EFBIG].contains($0.code) } ?? false
                    let oneLine = piece.firstIndex(of: 0x0A) == piece.count - 1
                    if noRoom && !oneLine {
                        limit = piece.count / 2
                        continue
                    }
                    throw error
                }
                fileSize += off_t(piece.count)
                if end == all.count {
                    lines = bufferedLines   // the last piece: the rest of the lines (no count)
                } else {
                    for b in piece where b == 0x0A { lines += 1 }
                }
                done = end
            }
        }
    }

    private func openCurrent() throws {
        let p = currentFilePath
        let existed = Posix.pathStatus(p) != nil
        if existed {
            // A file of today left by a previous run: make sure it ends on a line boundary.
            _ = try Journal.setAsideTail(of: p, warn: { _ in })
        }
        fd = try Posix.open(p, O_WRONLY | O_APPEND | O_CREAT)
        fileSize = Posix.fileStatus(fd)?.st_size ?? 0
        if !existed { Posix.syncDirectory(configuration.directory) }
    }

    private func applyRetention() {
        guard let keep = configuration.retentionDays else { return }
        Self.applyRetention(in: configuration.directory, keepDays: keep, today: currentDay)
    }

    /// Deletes the day files (and set-aside tails) of days more than `keepDays - 1` before
    /// `today` (`YYYY-MM-DD`). A start applies it before its recovery reads the journal
    /// (`urgentflow run --retention-days`): applied only when the journal was opened after it,
    /// the restart rebuilt its state from days it then deleted, and the next `recover` gave
    /// another (21 transitions logged against 0; the operators' user test).
    public static func applyRetention(in directory: String, keepDays keep: Int, today: String) {
        guard let today = DayString.dayNumber(today) else { return }
        let oldestKept = today - max(1, keep) + 1
        for file in (try? Journal.files(in: directory, includePartial: true)) ?? []
        where file.dayNumber < oldestKept {
            unlink(file.path)
        }
    }

    // MARK: - Reading and recovery

    public struct File: Sendable, Equatable {
        public var path: String
        public var day: String
        public var dayNumber: Int
        public var isPartial: Bool
    }

    /// Journal files (`journal-YYYY-MM-DD.jsonl`) in day order; `.partial` files only on request.
    public static func files(in directory: String, includePartial: Bool = false) throws -> [File] {
        var out: [File] = []
        for name in try Posix.listDirectory(directory) where name.hasPrefix(filePrefix) {
            let rest = name.dropFirst(filePrefix.count)
            let isPartial: Bool
            if rest.hasSuffix(fileSuffix) { isPartial = false }
            else if includePartial && rest.hasSuffix(partialSuffix) { isPartial = true }
            else { continue }
            let day = rest.prefix(10)
            guard let n = DayString.dayNumber(day),
                  rest.count == 10 + (isPartial ? partialSuffix.count : fileSuffix.count) else { continue }
            let dir = directory.hasSuffix("/") ? directory : directory + "/"
            out.append(File(path: dir + name, day: String(day), dayNumber: n, isPartial: isPartial))
        }
        out.sort { ($0.dayNumber, $0.isPartial ? 1 : 0) < ($1.dayNumber, $1.isPartial ? 1 : 0) }
        return out
    }

    /// Replaces a journal file whole with `bytes` (`urgentflow redact`): written beside it,
    /// made durable, then renamed over it and the directory synced, so a crash leaves the old
    /// file or the new, never half of one. For a journal no service holds (`JournalLock`).
    public static func replace(_ path: String, with bytes: [UInt8]) throws {
        let tmp = path + ".redacting"
        let fd = try Posix.open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        do {
            try bytes.withUnsafeBytes { try Posix.writeAll(fd, $0, path: tmp) }
            try Posix.dataSync(fd, path: tmp)
        } catch {
            sysClose(fd)
            unlink(tmp)
            throw error
        }
        sysClose(fd)
        guard rename(tmp, path) == 0 else { let code = errno; unlink(tmp); throw IngestIOError("rename", path: path, code: code) }
        Posix.syncDirectory(path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ".")
    }

    /// Moves the unterminated tail of every journal file aside (see the type's documentation).
    @discardableResult
    public static func setAsidePartialTails(in directory: String, warn: (String) -> Void = { _ in }) throws -> [SetAside] {
        var out: [SetAside] = []
        for file in try files(in: directory) {
            if let s = try setAsideTail(of: file.path, warn: warn) { out.append(s) }
        }
        return out
    }

    /// If `path` does not end with `\n`, append its last partial line to the sibling `.partial`
    /// file and truncate `path` just after its last `\n`.
    static func setAsideTail(of path: String, warn: (String) -> Void) throws -> SetAside? {
        let fd = try Posix.open(path, O_RDWR)
        defer { sysClose(fd) }
        guard let st = Posix.fileStatus(fd) else { throw IngestIOError("fstat", path: path) }
        let size = Int(st.st_size)
        guard size > 0 else { return nil }
        // Find the last newline, scanning backwards in blocks.
        let block = 64 * 1024
        var end = size
        var lastNewline = -1
        var buf = [UInt8](repeating: 0, count: block)
        var checkedLast = false
        scan: while end > 0 {
            let start = max(0, end - block)
            let n = end - start
            let got = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, n, off_t(start)) }
            guard got == n else { throw IngestIOError("pread", path: path) }
            if !checkedLast {
                if buf[n - 1] == 0x0A { return nil }
                checkedLast = true
            }
            var i = n - 1
            while i >= 0 {
                if buf[i] == 0x0A { lastNewline = start + i; break scan }
                i -= 1
            }
            end = start
        }
        let keep = lastNewline + 1
        let tailCount = size - keep
        var tail = [UInt8](repeating: 0, count: tailCount)
        let got = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, tailCount, off_t(keep)) }
        guard got == tailCount else { throw IngestIOError("pread", path: path) }
        tail.append(0x0A)
        let partialPath: String
        if path.hasSuffix(fileSuffix) {
            partialPath = String(path.dropLast(fileSuffix.count)) + partialSuffix
        } else {
            partialPath = path + partialSuffix
        }
        let pfd = try Posix.open(partialPath, O_WRONLY | O_APPEND | O_CREAT)
        defer { sysClose(pfd) }
        try tail.withUnsafeBytes { try Posix.writeAll(pfd, $0, path: partialPath) }
        try Posix.dataSync(pfd, path: partialPath)
        guard ftruncate(fd, off_t(keep)) == 0 else { throw IngestIOError("ftruncate", path: path) }
        try Posix.dataSync(fd, path: path)
        warn("journal: \(path): half-written last line (\(tailCount) bytes, no trailing newline) moved to \(partialPath)")
        return SetAside(file: path, partialFile: partialPath, byteCount: tailCount)
    }

    public struct ReadReport: Sendable, Equatable {
        public var files: Int = 0
        public var lines: Int = 0
        public var bytes: Int = 0
        public var setAside: [SetAside] = []
    }

    /// Streams every line of every journal file in `directory`, in day order then file order.
    /// Empty lines (`FeedLine.isEmpty`) are skipped. With `repair` (the default, for start-up
    /// recovery before the journal is reopened), half-written tails are first set aside; without
    /// it, they are skipped and reported only through `warn`.
    ///
    /// `body` gets a slice that is only valid during the call (do not keep it).
    @discardableResult
    public static func readAll(from directory: String, repair: Bool = true,
                               warn: (String) -> Void = { _ in },
                               _ body: (ArraySlice<UInt8>, LineOrigin) throws -> Void) throws -> ReadReport {
        var report = ReadReport()
        if repair { report.setAside = try setAsidePartialTails(in: directory, warn: warn) }
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        for file in try files(in: directory) {
            report.files += 1
            let fd = try Posix.open(file.path, O_RDONLY)
            defer { sysClose(fd) }
            let source = "journal:" + file.path
            var framer = LineFramer(maxLineLength: 1 << 30)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try Posix.read(fd, into: $0, path: file.path) }
                if n <= 0 { break }
                report.bytes += n
                try chunk.withUnsafeBytes { raw in
                    let base = raw.baseAddress!
                    try framer.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n])) { event in
                        guard case let .line(line, number) = event, !FeedLine.isEmpty(line) else { return }
                        report.lines += 1
                        let origin = LineOrigin(source: source, line: number)
                        if let p = line.baseAddress, p >= base, p < base + n {
                            let off = base.distance(to: p)
                            try body(chunk[off..<off + line.count], origin)
                        } else {
                            try body(ArraySlice(line), origin)
                        }
                    }
                }
            }
            if framer.hasPendingLine {
                warn("journal: \(file.path): last line without its newline (\(framer.pendingByteCount) bytes) skipped: still being written, or cut short by a crash")
            }
        }
        return report
    }

    /// Replays every journal line into `consumer` (recovery on start). Returns the read report;
    /// verdicts are counted in `accepted`/`rejected` of the result.
    public static func replay(from directory: String, into consumer: LineConsumer, repair: Bool = true,
                              warn: (String) -> Void = { _ in }) throws -> (report: ReadReport, accepted: Int, rejected: Int) {
        var accepted = 0, rejected = 0
        let report = try readAll(from: directory, repair: repair, warn: warn) { line, origin in
            if consumer.consume(line, origin: origin).isAccepted { accepted += 1 } else { rejected += 1 }
        }
        consumer.batchDidEnd()
        return (report, accepted, rejected)
    }
}

/// A small pthread-free lock (NSLock-equivalent) usable without Foundation.
final class Lock: @unchecked Sendable {
    private let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(m, nil) }
    deinit { pthread_mutex_destroy(m); m.deallocate() }
    @inline(__always) func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}
