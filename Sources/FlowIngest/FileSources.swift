#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A source owned by the hub.
protocol IngestSource: AnyObject, Sendable {
    var counters: SourceCounters { get }
    /// Sources that end by themselves (a file read once, stdin at EOF).
    var isFinite: Bool { get }
    func start()
    /// Stop producing; returns quickly. `join` waits for the producer to be gone.
    func stop()
    func join()
}

/// Frames bytes into batches and hands full batches to the queue (blocking when it is full).
struct BatchWriter {
    let source: String
    let counters: SourceCounters
    let queue: IngestQueue
    let stop: StopSignal
    var framer: LineFramer
    var batch: LineBatch
    /// A file being read with a journal (its positions key, device and inode) and the bytes of it fed
    /// to the framer so far: each batch then says where reading would resume after it.
    var file: (key: String, device: UInt64, inode: UInt64, fd: Int32)?
    var fedBytes = 0
    /// The fingerprint of the file's start (`FilePosition.head`), once it covers `headBytes`
    /// (before that, taken again at each batch: the file is still shorter).
    var head: (length: Int, hash: UInt64)?
    /// Hand a batch over once it holds this many bytes.
    let batchBytes = 128 * 1024

    init(source: String, counters: SourceCounters, queue: IngestQueue, stop: StopSignal, maxLineLength: Int) {
        self.source = source
        self.counters = counters
        self.queue = queue
        self.stop = stop
        self.framer = LineFramer(maxLineLength: maxLineLength)
        self.batch = LineBatch(source: source, stats: counters, reserve: batchBytes + 4096, lineLimit: maxLineLength)
    }

    mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        fedBytes += chunk.count
        let b = batch
        framer.feed(chunk) { b.add($0) }
        if batch.bytes.count >= batchBytes || batch.entries.count >= 4096 { flush() }
    }

    /// End of this stream: deliver an unterminated last line.
    mutating func finishStream() {
        let b = batch
        framer.finish { b.add($0) }
        flush()
    }

    mutating func flush() {
        guard !batch.isEmpty else { return }
        let b = batch
        if let file {
            let offset = fedBytes - framer.pendingByteCount
            let want = min(offset, FilePosition.headBytes)
            if head.map({ $0.length < want }) ?? (want > 0), let h = FilePosition.head(of: file.fd, length: want) { head = (want, h) }
            b.resume = (file.key, FilePosition(device: file.device, inode: file.inode, offset: offset, line: framer.lineNumber,
                                               headLength: head?.length, head: head?.hash))
        }
        batch = LineBatch(source: source, stats: counters, reserve: batchBytes + 4096, lineLimit: framer.maxLineLength)
        let s = stop
        if let waited = queue.put(.batch(b), cost: b.byteCost, shouldStop: { s.isStopped }), waited {
            counters.update { $0.throttled += 1 }
        }
    }
}

/// A file descriptor read until end of file: stdin (`-`) or any pipe. Polls every 200 ms so
/// that `stop()` is honoured even when nothing arrives.
final class DescriptorSource: IngestSource, @unchecked Sendable {
    let counters: SourceCounters
    let isFinite = true
    private let fd: Int32
    private let name: String
    private let queue: IngestQueue
    private let maxLineLength: Int
    private let closeWhenDone: Bool
    private let stopSignal = StopSignal()
    private var worker: Worker?

    init(fd: Int32, name: String, kind: SourceStatistics.Kind, closeWhenDone: Bool, queue: IngestQueue, maxLineLength: Int) {
        self.fd = fd
        self.name = name
        self.queue = queue
        self.maxLineLength = maxLineLength
        self.closeWhenDone = closeWhenDone
        self.counters = SourceCounters(source: name, kind: kind)
    }

    func start() {
        worker = Worker(name: "ingest \(name)") { [self] in run() }
    }

    func stop() { stopSignal.stop() }
    func join() { worker?.join() }

    private func run() {
        var writer = BatchWriter(source: name, counters: counters, queue: queue, stop: stopSignal, maxLineLength: maxLineLength)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        defer {
            if closeWhenDone { sysClose(fd) }
            counters.update { $0.finished = true }
            queue.offer(.finished(counters), cost: 0)
        }
        while !stopSignal.isStopped {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, 200)
            if r == 0 {
                writer.flush()
                continue
            }
            if r < 0 {
                if errno == EINTR { continue }
                counters.update { $0.lastError = IngestIOError("poll", path: name).description }
                break
            }
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try Posix.read(fd, into: $0, path: name) }
            } catch {
                counters.update { $0.lastError = "\(error)" }
                break
            }
            if n < 0 { continue }  // EAGAIN
            if n == 0 {
                writer.finishStream()
                return
            }
            counters.update { $0.bytesRead += n }
            chunk.withUnsafeBytes { writer.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            // Hand over what we have when the producer pauses (keeps latency low).
            var more = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&more, 1, 0) == 0 { writer.flush() }
        }
        writer.flush()
    }
}

/// A file read once, or followed as it grows like `tail -F`: every `pollInterval` at end of
/// file it checks the path's inode (rotation: the old file is drained, then the new one read
/// from its start) and the open file's size (truncation: read again from the start). Line
/// numbers restart at 1 in a new file or after a truncation.
final class FileSource: IngestSource, @unchecked Sendable {
    struct Options: Sendable {
        var follow: Bool
        var startAtEnd: Bool
        var pollInterval: Double
        /// With a journal: where an earlier run got to in this file (used when it is still the
        /// same file, device and inode, and at least that long) and the key its batches report under.
        var resume: FilePosition? = nil
        var positionsKey: String? = nil
    }

    let counters: SourceCounters
    /// Said to the service's log (the hub's `onError`), set before `start`.
    var warn: (@Sendable (String) -> Void)?
    var isFinite: Bool { !options.follow }
    private let path: String
    private let name: String
    private let options: Options
    private let queue: IngestQueue
    private let maxLineLength: Int
    private let stopSignal = StopSignal()
    private var worker: Worker?

    init(path: String, options: Options, queue: IngestQueue, maxLineLength: Int) {
        self.path = path
        self.name = LineOrigin.fileSource(path)
        self.options = options
        self.queue = queue
        self.maxLineLength = maxLineLength
        self.counters = SourceCounters(source: name, kind: .file)
    }

    func start() {
        worker = Worker(name: "ingest \(name)") { [self] in run() }
    }

    func stop() { stopSignal.stop() }
    func join() { worker?.join() }

    /// The file in `path`'s folder with this device and inode (a rotated name), opened.
    static func openRotated(near path: String, device: UInt64, inode: UInt64) -> (fd: Int32, st: stat)? {
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        guard let names = try? Posix.listDirectory(dir) else { return nil }
        for name in names {
            let candidate = dir + "/" + name
            guard let st = Posix.pathStatus(candidate), UInt64(st.st_dev) == device, UInt64(st.st_ino) == inode,
                  (st.st_mode & S_IFMT) == S_IFREG, let fd = try? Posix.open(candidate, O_RDONLY) else { continue }
            guard let now = Posix.fileStatus(fd), now.st_ino == st.st_ino else { sysClose(fd); continue }
            return (fd, now)
        }
        return nil
    }

    private func openFile() -> (fd: Int32, st: stat)? {
        do {
            let fd = try Posix.open(path, O_RDONLY)
            guard let st = Posix.fileStatus(fd) else { sysClose(fd); return nil }
            return (fd, st)
        } catch {
            counters.update { $0.lastError = "\(error)" }
            return nil
        }
    }

    private func run() {
        var writer = BatchWriter(source: name, counters: counters, queue: queue, stop: stopSignal, maxLineLength: maxLineLength)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        defer {
            counters.update { $0.finished = true }
            queue.offer(.finished(counters), cost: 0)
        }
        // Open (in follow mode, wait for the file to appear).
        var opened = openFile()
        while opened == nil {
            if !options.follow || stopSignal.sleep(options.pollInterval) { return }
            opened = openFile()
        }
        var fd = opened!.fd
        var ino = opened!.st.st_ino
        var dev = opened!.st.st_dev
        var offset = 0
        defer { sysClose(fd) }
        // Rotated while the service was down (`mv feed feed.1`, a new `feed`): the file read
        // before the stop, found beside the path by its device and inode, is read on from where
        // that run got to; the rotation check below then drains it and moves on to the new file.
        // Its lines written while the service was down were never read, without a word (the
        // operators' user test).
        if options.follow, let r = options.resume, r.device != UInt64(dev) || r.inode != UInt64(ino) {
            if let old = Self.openRotated(near: path, device: r.device, inode: r.inode) {
                if Int(old.st.st_size) > r.offset, r.sameStart(as: old.fd) {
                    sysClose(fd)
                    (fd, ino, dev) = (old.fd, old.st.st_ino, old.st.st_dev)
                } else {
                    sysClose(old.fd)
                }
            } else {
                let why = "replaced while urgentflow was stopped, and the file it was reading is not beside it: "
                    + "what was written to that file after its line \(r.line) is not read"
                counters.update { $0.lastError = why }
                warn?("input \(path): \(why)")
            }
        }
        func track() {
            guard let key = options.positionsKey else { return }
            writer.file = (key, UInt64(dev), UInt64(ino), fd)
            writer.fedBytes = offset
            writer.head = nil
        }

        if let r = options.resume, r.device == UInt64(dev), r.inode == UInt64(ino), !r.sameStart(as: fd) {
            // Another file under the freed inode number of the one read before (deleted, and a
            // new one made while the service was down): read from its start, and say so.
            let why = "replaced while urgentflow was stopped by a file that took the old one's inode number "
                + "(its start differs): read from its start; what the old file held after its line \(r.line) is not read"
            counters.update { $0.lastError = why }
            warn?("input \(path): \(why)")
        } else if let r = options.resume, r.device == UInt64(dev), r.inode == UInt64(ino),
           let st = Posix.fileStatus(fd), Int(st.st_size) >= r.offset, lseek(fd, off_t(r.offset), SEEK_SET) == off_t(r.offset) {
            // The same file as an earlier run read: carry on after the last line it took.
            offset = r.offset
            writer.framer.resume(afterLine: r.line)
            counters.update { $0.bytesSkipped = r.offset; $0.resumedAtLine = r.line }
        } else if options.startAtEnd && options.follow {
            // Skip existing content but count its lines so numbers stay true.
            var skipper = LineFramer(maxLineLength: maxLineLength)
            while let n = try? chunk.withUnsafeMutableBytes({ try Posix.read(fd, into: $0, path: path) }), n > 0 {
                offset += n
                chunk.withUnsafeBytes { skipper.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) { _ in } }
            }
            writer.framer = skipper
            let skipped = offset
            counters.update { $0.bytesSkipped = skipped }
        }
        track()

        /// Reads to the current end of file; returns bytes read or nil on error.
        func drain() -> Int? {
            var total = 0
            while !stopSignal.isStopped {
                let n: Int
                do { n = try chunk.withUnsafeMutableBytes { try Posix.read(fd, into: $0, path: path) } } catch {
                    counters.update { $0.lastError = "\(error)" }
                    return nil
                }
                if n <= 0 { break }
                total += n
                offset += n
                counters.update { $0.bytesRead += n }
                chunk.withUnsafeBytes { writer.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            return total
        }

        while !stopSignal.isStopped {
            guard drain() != nil else { break }
            if !options.follow {
                writer.finishStream()
                return
            }
            writer.flush()
            // At end of file: rotation? truncation?
            if let now = Posix.pathStatus(path), now.st_ino != ino || now.st_dev != dev {
                // Rotated: take what was appended to the old file meanwhile, then switch.
                guard drain() != nil else { break }
                writer.finishStream()
                guard let next = openFile() else {
                    if stopSignal.sleep(options.pollInterval) { break }
                    continue
                }
                sysClose(fd)
                (fd, ino, dev, offset) = (next.fd, next.st.st_ino, next.st.st_dev, 0)
                writer.framer.reset()
                track()
                counters.update { $0.rotations += 1 }
                continue
            }
            if let st = Posix.fileStatus(fd), Int(st.st_size) < offset {
                // Truncated in place: an unterminated line is lost; read from the start.
                let dropped = writer.framer.pendingByteCount
                writer.framer.reset()
                lseek(fd, 0, SEEK_SET)
                offset = 0
                track()
                counters.update { $0.truncations += 1; $0.droppedPartialBytes += dropped }
                continue
            }
            if stopSignal.sleep(options.pollInterval) { break }
        }
        writer.flush()
    }
}
