import Foundation

/// Owns the sources, the bounded queue and the single consumer thread; writes accepted lines to
/// the journal and sends acknowledgements after each group commit.
///
/// ```
/// sources (threads / NIO) --batches--> bounded queue --> consumer thread:
///     consume each line -> journal.append (accepted) -> consumer.batchWillCommit()
///     -> journal.commit (write + fsync)
///     -> acknowledgements to TCP producers -> consumer.batchDidEnd()
/// ```
/// The consumer is called from the consumer thread only. A full queue blocks file/stdin readers
/// and pauses reading on TCP connections (back-pressure, counted as `throttled`); the consumer
/// thread itself never waits on a producer.
public final class IngestHub: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Longest accepted line in bytes (without `\n` / `\r`); longer lines are rejected
        /// `line_too_long` and skipped up to the next newline.
        public var maxLineLength: Int
        /// Bytes of framed lines allowed between the sources and the consumer.
        public var queueCapacityBytes: Int
        /// When set, `LineConsumer.tick()` is called at this interval on the consumer thread.
        public var tickInterval: Double?
        /// Follow-mode polling interval for files, in seconds.
        public var filePollInterval: Double
        /// While journal commits fail (a full disk) the journal keeps the lines for the next
        /// commit; past this many bytes kept, lines are refused `journal_failed` before they reach
        /// the consumer, so memory stays bounded and what the core holds stays what the journal
        /// will hold. Normal groups stay far below it (the queue holds 8 MB at most).
        public var maxJournalBacklogBytes: Int

        public init(maxLineLength: Int = 64 * 1024, queueCapacityBytes: Int = 8 << 20,
                    tickInterval: Double? = nil, filePollInterval: Double = 0.2,
                    maxJournalBacklogBytes: Int = 32 << 20) {
            self.maxLineLength = maxLineLength
            self.queueCapacityBytes = queueCapacityBytes
            self.tickInterval = tickInterval
            self.filePollInterval = filePollInterval
            self.maxJournalBacklogBytes = maxJournalBacklogBytes
        }
    }

    public let configuration: Configuration
    public let journal: Journal?
    let queue: IngestQueue
    private let consumer: LineConsumer
    private let lock = Lock()
    private var sources: [IngestSource] = []
    private var consumerThread: Worker?
    private var finiteOutstanding = 0
    private var isShutDown = false
    private let idle = NSCondition()
    private var journalErrors = 0
    private var lastJournalError: String?
    private var onError: (@Sendable (String) -> Void)?
    private var onNotice: (@Sendable (String) -> Void)?
    private let submitted: SourceCounters
    /// Followed files' positions, next to the journal (nil without a journal).
    private let positions: FilePositions?

    /// - Parameters:
    ///   - consumer: called on the hub's consumer thread only; must not be used elsewhere while
    ///     the hub runs.
    ///   - journal: where accepted lines go; nil for no journal (acknowledgements then follow the
    ///     consumer's verdict directly).
    ///   - onError: journal write failures and similar, for a log or the status line. A journal
    ///     whose commits keep failing is said as a `RepeatedFailure`.
    ///   - onNotice: what is not a failure but ends one (the journal commits again).
    public init(consumer: LineConsumer, journal: Journal?, configuration: Configuration = Configuration(),
                onError: (@Sendable (String) -> Void)? = nil, onNotice: (@Sendable (String) -> Void)? = nil) {
        self.consumer = consumer
        self.journal = journal
        self.configuration = configuration
        self.queue = IngestQueue(capacityBytes: configuration.queueCapacityBytes)
        self.onError = onError
        self.onNotice = onNotice
        self.submitted = SourceCounters(source: "submitted", kind: .submitted)
        self.positions = journal.map { FilePositions(directory: $0.configuration.directory) }
        if let problem = positions?.loadProblem { onError?(problem) }
        consumerThread = Worker(name: "ingest consumer") { [self] in consumerLoop() }
    }

    // MARK: - Sources

    /// Standard input (`-`), read until end of file.
    public func addStdin() {
        add(DescriptorSource(fd: 0, name: "stdin", kind: .stdin, closeWhenDone: false, queue: queue,
                             maxLineLength: configuration.maxLineLength))
    }

    /// Any readable descriptor (a pipe, a socket), read until end of file. The hub closes it
    /// when done if `closeWhenDone`.
    public func addDescriptor(_ fd: Int32, name: String, closeWhenDone: Bool = true) {
        add(DescriptorSource(fd: fd, name: name, kind: .pipe, closeWhenDone: closeWhenDone, queue: queue,
                             maxLineLength: configuration.maxLineLength))
    }

    /// A file read once (`follow: false`), or followed like `tail -F`. With `startAtEnd`, a
    /// followed file's existing content is skipped (line numbers still count it).
    public func addFile(_ path: String, follow: Bool, startAtEnd: Bool = false) {
        var options = FileSource.Options(follow: follow, startAtEnd: startAtEnd, pollInterval: configuration.filePollInterval)
        if let positions {
            // With a journal, a file (followed or read once) carries on where the last run got
            // to: the lines it took are in the journal already.
            options.positionsKey = FilePositions.key(path)
            options.resume = positions.position(of: path)
        }
        let source = FileSource(path: path, options: options, queue: queue, maxLineLength: configuration.maxLineLength)
        source.warn = onError
        add(source)
    }

    /// A TCP listener; returns once bound (use the returned port when you asked for port 0).
    @discardableResult
    public func addTCPListener(_ config: TCPListenerConfiguration) throws -> TCPListenerInfo {
        addTCPListener(try Self.bindTCPListener(config))
    }

    /// Binds a TCP listener before there is a hub to take it (a port in use throws
    /// `TCPBindError`): the port is held, and producers that connect wait unread until
    /// `addTCPListener(_:)` (BoundTCPListener).
    public static func bindTCPListener(_ config: TCPListenerConfiguration) throws -> BoundTCPListener {
        let listener = TCPListener(configuration: config)
        try listener.bind()
        return BoundTCPListener(listener)
    }

    /// Reads a listener bound ahead (`bindTCPListener`), the connections waiting first.
    @discardableResult
    public func addTCPListener(_ bound: BoundTCPListener) -> TCPListenerInfo {
        let listener = bound.listener
        listener.warn = onError
        listener.attach(queue: queue, maxLineLength: listener.configuration.maxLineLength ?? configuration.maxLineLength)
        add(listener)
        return listener.info
    }

    /// An input given on the command line: `-` is stdin, `tcp://HOST:PORT` or `tcp:PORT` a
    /// listener (no token), anything else a file (followed when `follow`).
    public func addInput(_ spec: String, follow: Bool) throws {
        if spec == "-" {
            addStdin()
        } else if let tcp = TCPListenerConfiguration(spec: spec) {
            try addTCPListener(tcp)
        } else {
            addFile(spec, follow: follow)
        }
    }

    private func add(_ source: IngestSource) {
        lock.withLock {
            precondition(!isShutDown, "IngestHub: source added after shutdown")
            sources.append(source)
            if source.isFinite { finiteOutstanding += 1 }
        }
        source.start()
    }

    // MARK: - Running

    /// Run `body` on the consumer thread, in order with the lines queued before it (e.g. an
    /// operator action that must touch the core, which has a single owner).
    public func perform(_ body: @escaping @Sendable () -> Void) {
        queue.offer(.work(body), cost: 64)
    }

    /// Deliver one line as if a source had read it (journalled when accepted). Never blocks; on
    /// a full disk the line waits for the journal (`HeldBatches`).
    public func submit(_ line: [UInt8], source: String = "submitted") {
        let b = LineBatch(source: source, stats: submitted)
        line.withUnsafeBytes { b.add(.line($0, number: 0)) }
        submitted.update { $0.lines += 1 }
        queue.offer(.batch(b), cost: b.byteCost)
    }

    /// Waits until every finite source (files read once, stdin, pipes) reached its end and all
    /// their lines were consumed and committed. Returns false on timeout.
    @discardableResult
    public func waitForFiniteSources(timeout: Double = .infinity) -> Bool {
        let deadline = timeout.isFinite ? Date(timeIntervalSinceNow: timeout) : nil
        idle.lock()
        defer { idle.unlock() }
        while lock.withLock({ finiteOutstanding }) > 0 {
            if let deadline, deadline <= Date() { return false }
            let slice = Date(timeIntervalSinceNow: 1)
            _ = idle.wait(until: deadline.map { min($0, slice) } ?? slice)
        }
        return true
    }

    /// Stops every source, lets the consumer finish what was already read, commits and syncs the
    /// journal, sends the last acknowledgements and closes connections. Idempotent; blocking.
    public func shutdown() {
        let toStop: [IngestSource] = lock.withLock {
            if isShutDown { return [] }
            isShutDown = true
            return sources
        }
        guard consumerThread != nil else { return }
        for s in toStop { s.stop() }
        for s in toStop { s.join() }
        queue.close()
        consumerThread?.join()
        consumerThread = nil
        for s in toStop { (s as? TCPListener)?.closeAfterDrain() }
        do { try journal?.sync() } catch { report("journal sync at shutdown: \(error)") }
    }

    public struct Statistics: Sendable {
        public var sources: [SourceStatistics]
        /// Lines written to the journal since it was opened (`Journal.linesWritten`).
        public var journalLines: Int
        public var journalCommits: Int
        public var journalErrors: Int
        public var lastJournalError: String?
        public var queuedBytes: Int

        /// The lines of every source, in words for a stop summary: `7 accepted, 1 rejected`,
        /// and `, 3 empty` when there were empty lines (neither accepted nor rejected).
        public var linesSummary: String {
            let accepted = sources.map(\.accepted).reduce(0, +), rejected = sources.map(\.rejected).reduce(0, +)
            let empty = sources.map(\.empty).reduce(0, +)
            return "\(accepted) accepted, \(rejected) rejected" + (empty > 0 ? ", \(empty) empty" : "")
        }
    }

    public func statistics() -> Statistics {
        let srcs = lock.withLock { sources.map { $0.counters.snapshot } } + [submitted.snapshot]
        let (errs, last) = lock.withLock { (journalErrors, lastJournalError) }
        return Statistics(sources: srcs, journalLines: journal?.linesWritten ?? 0,
                          journalCommits: journal?.commits ?? 0, journalErrors: errs,
                          lastJournalError: last, queuedBytes: queue.usedBytes)
    }

    private func report(_ message: String) {
        count(message)
        onError?(message)
    }

    /// A failure counted (the statistics, and the status line's counters) without being said.
    private func count(_ message: String) {
        lock.withLock {
            journalErrors += 1
            lastJournalError = message
        }
    }

    /// A round's commit failed: counted, and said as a `RepeatedFailure` (saying each one wrote,
    /// on a full disk under TCP load, 292 warnings in a second).
    private func commitFailed(_ error: Error, _ failing: inout RepeatedFailure?) {
        let message = "journal commit failed: \(error)"
        var f = failing ?? RepeatedFailure()
        count(message)
        if f.failed(now: Posix.monotonicNanos()) {
            onError?(message + (f.count == 1 ? "; said again every 4 minutes while it fails" : " (still failing: \(f.count) failed commits)"))
        }
        failing = f
    }

    // MARK: - The consumer thread

    private struct Tally {
        var lines = 0, accepted = 0, rejected = 0, tooLong = 0, empty = 0
    }

    private func consumerLoop() {
        var nextTick = configuration.tickInterval.map { Posix.monotonicNanos() + UInt64($0 * 1e9) }
        var acks: [(AckSink, [Ack], Int)] = []
        var tallies: [ObjectIdentifier: (SourceCounters, Tally)] = [:]
        var resumeAt: [String: FilePosition] = [:]
        var held = HeldBatches()
        // The last commit failed: it is tried again at every poll until it succeeds, so what the
        // journal keeps becomes durable once the disk has room, not only with the next line.
        var retryCommit = false
        // The backlog's state as the consumer was last told it (`LineConsumer.journalHeld`).
        var toldHeld = false
        var commitFailing: RepeatedFailure? = nil
        while true {
            var timeout = held.isEmpty && !retryCommit ? 0.25 : configuration.filePollInterval
            if let t = nextTick {
                let now = Posix.monotonicNanos()
                timeout = min(timeout, now >= t ? 0 : Double(t - now) / 1e9)
            }
            let (items, closed) = queue.takeAll(timeout: timeout)
            if closed { break }
            // Back under the bound (a commit since made room): said before what waited is taken,
            // in this round, so the consumer's clock moves on only with those lines in hand.
            if toldHeld && !journalBacklogged {
                toldHeld = false
                consumer.journalHeld(false)
            }
            if !items.isEmpty || !held.isEmpty || retryCommit {
                var cost = 0
                var finished = 0
                func take(_ b: LineBatch) {
                    cost += b.byteCost
                    process(b, acks: &acks, tallies: &tallies)
                    if let r = b.resume { resumeAt[r.key] = r.position }
                }
                while !journalBacklogged, let b = held.popFirst() { take(b) }
                finished += held.takeReleasedEnds()
                for item in items {
                    switch item {
                    case let .batch(b):
                        if !held.holds(b, journalBacklogged: journalBacklogged) { take(b) }
                    case let .work(body):
                        cost += 64
                        body()
                    case let .finished(c):
                        if c === submitted { break }
                        if !held.holdsEnd(of: c) { finished += 1 }
                    }
                }
                consumer.batchWillCommit()
                var journalFailed = false
                if let journal {
                    do {
                        try journal.commit()
                        if let f = commitFailing {
                            commitFailing = nil
                            onNotice?("journal commits again, after \(f.count) failed \(f.count == 1 ? "commit" : "commits")")
                        }
                    } catch {
                        journalFailed = true
                        // Counted once per round of lines, not at every retry between them.
                        if !items.isEmpty { commitFailed(error, &commitFailing) }
                    }
                }
                retryCommit = journalFailed
                if journalBacklogged && !toldHeld {
                    toldHeld = true
                    consumer.journalHeld(true)
                }
                if let positions, !resumeAt.isEmpty, !journalFailed {
                    // Only what the journal now holds. After a failed commit the lines are kept
                    // for the next one (the retry), so their positions are kept with them and
                    // recorded once it succeeds: dropped, a restart read the lines again and
                    // refused each as a duplicate.
                    positions.record(resumeAt)
                    resumeAt.removeAll(keepingCapacity: true)
                    do { try positions.save() } catch { report("file positions: \(error)") }
                }
                for (sink, list, c) in acks {
                    let list = journalFailed ? list.map { a in
                        a.verdict.isAccepted ? Ack(line: a.line, verdict: .rejected(reason: IngestReason.journalFailed)) : a
                    } : list
                    sink.acknowledge(list, byteCost: c)
                }
                acks.removeAll(keepingCapacity: true)
                for (_, (counters, t)) in tallies {
                    counters.update {
                        $0.lines += t.lines; $0.accepted += t.accepted; $0.rejected += t.rejected
                        $0.tooLong += t.tooLong; $0.empty += t.empty
                    }
                }
                tallies.removeAll(keepingCapacity: true)
                queue.release(cost)
                consumer.batchDidEnd()
                if finished > 0 {
                    idle.lock()
                    lock.withLock { finiteOutstanding -= finished }
                    idle.broadcast()
                    idle.unlock()
                }
            } else {
                // Quiet: the positions of the last lines taken, held back by the one-second
                // throttle, are written now rather than at the next line or the stop (a crash
                // meanwhile would read them again).
                do { try positions?.save() } catch { report("file positions: \(error)") }
            }
            if let t = nextTick, Posix.monotonicNanos() >= t, let iv = configuration.tickInterval {
                consumer.tick()
                nextTick = max(t + UInt64(iv * 1e9), Posix.monotonicNanos())
            }
        }
        if let journal {
            do { try journal.commit() } catch { report("journal commit failed: \(error)") }
        }
        do { try positions?.save(force: true) } catch { report("file positions: \(error)") }
    }

    /// Whether the journal holds more uncommitted bytes than it may (its commits are failing).
    private var journalBacklogged: Bool {
        (journal?.pendingByteCount ?? 0) > configuration.maxJournalBacklogBytes
    }

    private func process(_ b: LineBatch, acks: inout [(AckSink, [Ack], Int)],
                         tallies: inout [ObjectIdentifier: (SourceCounters, Tally)]) {
        var t = tallies[ObjectIdentifier(b.stats)]?.1 ?? Tally()
        var list: [Ack] = []
        let wantAcks = b.sink != nil
        let backlogged = journalBacklogged
        var refused: (first: Int, last: Int, count: Int)? = nil   // at the backlog bound
        if wantAcks { list.reserveCapacity(b.entries.count) }
        for e in b.entries {
            t.lines += 1
            let verdict: LineVerdict
            switch e.kind {
            case .empty:
                t.empty += 1
                verdict = .rejected(reason: IngestReason.emptyLine)
            case .tooLong:
                t.tooLong += 1
                t.rejected += 1
                let reason = IngestReason.lineTooLong(length: e.length, limit: b.lineLimit ?? configuration.maxLineLength)
                verdict = .rejected(reason: reason)
                consumer.rejectedBeforeConsume(origin: LineOrigin(source: b.source, line: e.line), reason: reason)
            case .line where backlogged:
                // The journal cannot write and holds too much already: not applied, resend later.
                t.rejected += 1
                verdict = .rejected(reason: IngestReason.journalFailed)
                refused = (refused?.first ?? e.line, e.line, (refused?.count ?? 0) + 1)
            case .line:
                let slice = b.bytes[e.start..<e.start + e.length]
                verdict = consumer.consume(slice, origin: LineOrigin(source: b.source, line: e.line))
                if verdict.isAccepted {
                    t.accepted += 1
                    journal?.append(slice)
                } else {
                    t.rejected += 1
                }
            }
            if wantAcks { list.append(Ack(line: e.line, verdict: verdict)) }
        }
        if let refused {
            // Once per group, not per line: a sender at full speed against a full disk would
            // otherwise write a log line per refused line.
            let which = refused.count == 1 ? "" : " (\(refused.count) lines, \(refused.first) to \(refused.last))"
            consumer.rejectedBeforeConsume(
                origin: LineOrigin(source: b.source, line: refused.first),
                reason: IngestReason.journalFailed + ": not recorded, resend\(which): the journal cannot write and already holds "
                    + "\((journal?.pendingByteCount ?? 0) >> 20) MB it could not commit")
        }
        tallies[ObjectIdentifier(b.stats)] = (b.stats, t)
        if let sink = b.sink { acks.append((sink, list, b.byteCost)) }
    }
}

extension IngestHub {
    /// The `urgentflow record` building block: ingest `inputs` (same syntax as `addInput`) with no
    /// screen; lines the `validator` accepts (by default every non-empty line; pass the core's
    /// engine to journal only valid messages) are written to `journal` and acknowledged.
    /// The hub is running when this returns: call `waitForFiniteSources()` for finite inputs, or
    /// `shutdown()` on SIGTERM.
    public static func recorder(inputs: [String], follow: Bool, journal: Journal,
                                validator: LineConsumer = AcceptAllConsumer(),
                                configuration: Configuration = Configuration(),
                                onError: (@Sendable (String) -> Void)? = nil,
                                onNotice: (@Sendable (String) -> Void)? = nil) throws -> IngestHub {
        let hub = IngestHub(consumer: validator, journal: journal, configuration: configuration, onError: onError,
                            onNotice: onNotice)
        do {
            for input in inputs { try hub.addInput(input, follow: follow) }
        } catch {
            hub.shutdown()
            throw error
        }
        return hub
    }
}

/// Batches of files, stdin, pipes and operator lines, held back while the journal's backlog is
/// over its bound (a full disk). None of them can resend what is refused (and a file's saved
/// position would move past refused lines with the next commit): their batches wait here
/// instead, in order, still charged against the queue, so their readers stop at the queue's
/// capacity and a writer into stdin waits on the pipe, until a commit brings the backlog back
/// under the bound. A TCP sender is not held: it is told `journal_failed` and resends
/// (`LineBatch.waitsForTheJournal`).
///
/// The end of a source read once (a file, stdin) whose last batches are held is held with them:
/// it counts as finished (`IngestHub.waitForFiniteSources`) only once they are taken.
struct HeldBatches {
    private var batches: [LineBatch] = []
    private var ends: [SourceCounters] = []

    var isEmpty: Bool { batches.isEmpty }

    /// Holds `b` if its source waits for the journal (`LineBatch.waitsForTheJournal`) and the
    /// journal is backlogged, or an earlier batch of its source is held (lines stay in order).
    /// Returns whether it was held; if not, the caller takes it now.
    mutating func holds(_ b: LineBatch, journalBacklogged: Bool) -> Bool {
        guard b.waitsForTheJournal, journalBacklogged || holdsBatch(of: b.stats) else { return false }
        batches.append(b)
        return true
    }

    /// The oldest held batch, no longer held (the caller takes it, once the backlog allows).
    mutating func popFirst() -> LineBatch? {
        batches.isEmpty ? nil : batches.removeFirst()
    }

    /// Holds the end of `source` if batches of it are held; returns whether it did (if not, the
    /// source counts as finished now).
    mutating func holdsEnd(of source: SourceCounters) -> Bool {
        guard holdsBatch(of: source) else { return false }
        ends.append(source)
        return true
    }

    /// The held ends whose source has no batch held any more, no longer held: how many (each
    /// counts as finished now).
    mutating func takeReleasedEnds() -> Int {
        let before = ends.count
        let batches = self.batches
        ends.removeAll { end in !batches.contains { $0.stats === end } }
        return before - ends.count
    }

    private func holdsBatch(of source: SourceCounters) -> Bool {
        batches.contains { $0.stats === source }
    }
}
