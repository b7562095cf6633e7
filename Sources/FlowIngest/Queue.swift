import FlowCore
import Foundation

/// Where a TCP connection (or any source wanting replies) receives the verdicts of its lines,
/// after the journal commit that made its accepted lines durable. Called on the consumer thread.
protocol AckSink: AnyObject, Sendable {
    func acknowledge(_ acks: [Ack], byteCost: Int)
}

struct Ack: Sendable {
    var line: Int
    var verdict: LineVerdict
}

/// Lines framed by one source, stored contiguously (one allocation for many lines).
final class LineBatch: @unchecked Sendable {
    enum Kind: UInt8 { case line, tooLong, empty }
    struct Entry {
        var start: Int
        var length: Int
        var line: Int
        var kind: Kind
    }

    let source: String
    let stats: SourceCounters
    let sink: AckSink?
    var bytes: [UInt8] = []
    var entries: [Entry] = []
    /// A followed file: where reading would resume after this batch's last line (FilePositions).
    var resume: (key: String, position: FilePosition)?
    /// The longest line its source takes (its framer's limit; nil: the hub's): what a line too
    /// long is said to be over.
    let lineLimit: Int?

    init(source: String, stats: SourceCounters, sink: AckSink? = nil, reserve: Int = 0, lineLimit: Int? = nil) {
        self.source = source
        self.stats = stats
        self.sink = sink
        self.lineLimit = lineLimit
        if reserve > 0 { bytes.reserveCapacity(reserve) }
    }

    var isEmpty: Bool { entries.isEmpty }
    /// Its source cannot be told to send a line again: a file, stdin, a pipe, or a line submitted
    /// in-process (an operator's acknowledgement or silence from the dashboard). With the journal
    /// over its backlog bound (a full disk) the batch waits (`HeldBatches`) rather than being
    /// refused, which would lose its lines; the readers of the first three then wait for room in
    /// the queue. Only a TCP sender is refused: it is told `journal_failed`, and resends.
    var waitsForTheJournal: Bool { stats.kind != .tcp }
    /// What the batch costs against the queue's capacity.
    var byteCost: Int { bytes.count + entries.count * 32 + 64 }

    func add(_ event: LineFramer.Event) {
        switch event {
        case let .line(raw, number):
            // Nothing, or only whitespace: no message (`FeedLine.isEmpty`), counted apart and
            // answered `empty_line`, as a replay and `check` count it.
            if FeedLine.isEmpty(raw) {
                entries.append(Entry(start: bytes.count, length: 0, line: number, kind: .empty))
            } else {
                entries.append(Entry(start: bytes.count, length: raw.count, line: number, kind: .line))
                bytes.append(contentsOf: raw)
            }
        case let .tooLong(number, length):
            entries.append(Entry(start: bytes.count, length: length, line: number, kind: .tooLong))
        }
    }
}

/// Thread-safe counters of one source (a file, stdin, or a TCP listener with all its connections).
final class SourceCounters: @unchecked Sendable {
    private let lock = Lock()
    private var s: SourceStatistics
    let kind: SourceStatistics.Kind
    init(source: String, kind: SourceStatistics.Kind) {
        s = SourceStatistics(source: source, kind: kind)
        self.kind = kind
    }
    func update(_ body: (inout SourceStatistics) -> Void) { lock.withLock { body(&s) } }
    var snapshot: SourceStatistics { lock.withLock { s } }
}

/// Counters of one source, as returned by `IngestHub.statistics()`.
public struct SourceStatistics: Sendable, Equatable {
    public enum Kind: String, Sendable { case stdin, file, tcp, pipe, submitted }
    public var source: String
    public var kind: Kind
    /// Bytes read from the source.
    public var bytesRead = 0
    /// Lines framed (including empty and over-long ones).
    public var lines = 0
    public var accepted = 0
    public var rejected = 0
    /// Over-long lines (also counted in `rejected`).
    public var tooLong = 0
    /// Empty lines, or of only whitespace (ignored, not in `rejected`).
    public var empty = 0
    /// Bytes of unterminated lines dropped (TCP connection lost mid-line, file truncated).
    public var droppedPartialBytes = 0
    /// Times the source had to wait because the queue to the consumer was full (a flood).
    public var throttled = 0
    /// Follow mode with `startAtEnd`, or resumed after a restart: bytes of existing content
    /// skipped at start.
    public var bytesSkipped = 0
    /// Follow mode resumed after a restart (FilePositions): the last line taken before it.
    public var resumedAtLine: Int?
    /// Follow mode: rotations and truncations seen.
    public var rotations = 0
    public var truncations = 0
    /// TCP: connections accepted in total, open now, refused (limit), failed authentication.
    public var connections = 0
    public var openConnections = 0
    public var refusedConnections = 0
    public var authFailures = 0
    /// Last I/O problem (file missing, read error), if any.
    public var lastError: String?
    /// The source reached its end (finite sources) or was stopped.
    public var finished = false
}

/// The bounded queue between sources and the consumer thread. Capacity is in bytes; blocking
/// producers (files, stdin) wait for room, non-blocking ones (TCP) are told to pause reading.
final class IngestQueue: @unchecked Sendable {
    enum Item {
        case batch(LineBatch)
        case work(@Sendable () -> Void)
        case finished(SourceCounters)
    }

    let capacity: Int
    private let cond = NSCondition()
    private var items: [Item] = []
    private var bytes = 0
    private var closed = false

    init(capacityBytes: Int) { capacity = max(1 << 12, capacityBytes) }

    var usedBytes: Int { cond.lock(); defer { cond.unlock() }; return bytes }
    var isOverCapacity: Bool { usedBytes >= capacity }

    /// Enqueue without waiting. Returns false when the queue is closed (item dropped).
    @discardableResult
    func offer(_ item: Item, cost: Int) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        if closed { return false }
        items.append(item)
        bytes += cost
        cond.broadcast()
        return true
    }

    /// Enqueue, waiting (in slices of 100 ms, checking `shouldStop`) while the queue is full.
    /// Returns whether it had to wait, or nil when dropped (closed or stopped).
    func put(_ item: Item, cost: Int, shouldStop: () -> Bool) -> Bool? {
        cond.lock()
        defer { cond.unlock() }
        var waited = false
        while bytes >= capacity && !closed {
            if shouldStop() { return nil }
            waited = true
            _ = cond.wait(until: Date(timeIntervalSinceNow: 0.1))
        }
        if closed { return nil }
        items.append(item)
        bytes += cost
        cond.broadcast()
        return waited
    }

    /// Takes everything queued, waiting up to `timeout` when empty. `closed` is true once the
    /// queue was closed and is empty.
    func takeAll(timeout: Double) -> (items: [Item], closed: Bool) {
        cond.lock()
        defer { cond.unlock() }
        if items.isEmpty && !closed {
            _ = cond.wait(until: Date(timeIntervalSinceNow: timeout))
        }
        let out = items
        items.removeAll(keepingCapacity: true)
        return (out, closed && out.isEmpty)
    }

    func release(_ cost: Int) {
        cond.lock()
        bytes -= cost
        cond.broadcast()
        cond.unlock()
    }

    func close() {
        cond.lock()
        closed = true
        cond.broadcast()
        cond.unlock()
    }
}

/// A stop flag with an interruptible sleep.
final class StopSignal: @unchecked Sendable {
    private let cond = NSCondition()
    private var stopped = false
    var isStopped: Bool { cond.lock(); defer { cond.unlock() }; return stopped }
    func stop() { cond.lock(); stopped = true; cond.broadcast(); cond.unlock() }
    /// Sleeps up to `seconds`; returns true if stopped.
    func sleep(_ seconds: Double) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        if !stopped { _ = cond.wait(until: Date(timeIntervalSinceNow: seconds)) }
        return stopped
    }
}

/// A joinable thread.
final class Worker: @unchecked Sendable {
    private let done = NSCondition()
    private var finished = false
    private var thread: Thread?

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let t = Thread { [self] in
            body()
            done.lock(); finished = true; done.broadcast(); done.unlock()
        }
        t.name = name
        t.stackSize = 1 << 20
        thread = t
        t.start()
    }

    /// Waits for the thread's body to return (at most `timeout` seconds); true when it did.
    @discardableResult
    func join(timeout: Double = .infinity) -> Bool {
        let deadline = timeout.isFinite ? Date(timeIntervalSinceNow: timeout) : nil
        done.lock()
        defer { done.unlock() }
        while !finished {
            // (NSCondition cannot wait until `distantFuture` on Linux: wait in slices.)
            let slice = Date(timeIntervalSinceNow: 1)
            if let deadline, deadline <= Date() { return finished }
            _ = done.wait(until: deadline.map { min($0, slice) } ?? slice)
        }
        return true
    }
}
