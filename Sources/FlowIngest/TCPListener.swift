import NIOCore
import NIOPosix

/// A TCP listener for line-delimited feed messages.
///
/// Protocol (see docs/ingest.md):
/// - With tokens configured, the first line must be `AUTH <token>`; the listener answers
///   `ok auth`, or `err auth bad_token` / `err auth auth_required` and closes. Without tokens an
///   `AUTH ...` first line is answered `ok auth` and otherwise ignored.
/// - Every following line `n` (1-based, the AUTH line not counted) is answered, in order, with
///   `ok <n>` once it is durably in the journal, or `err <n> <reason>` (the core's reason,
///   `line_too_long`, `empty_line`, `journal_failed`).
/// - When the producer half-closes (EOF) the listener answers everything still pending, reports
///   an unterminated last line as `err <n> incomplete_line` (it is not accepted), then closes.
///   A connection lost mid-line loses only that partial line.
public struct TCPListenerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (see `TCPListenerInfo.port`).
    public var port: Int
    /// Accepted shared tokens; empty means no authentication.
    public var tokens: Set<String>
    /// Overrides the hub's `maxLineLength` for this listener.
    public var maxLineLength: Int?
    public var maxConnections: Int
    /// A connection stops being read while this many bytes of its lines await acknowledgement.
    public var maxInFlightBytesPerConnection: Int
    /// Refused connections are said at most once in this many seconds (`TCPListener.refused`).
    public var refusalLogInterval: Double = 60

    public init(host: String = "127.0.0.1", port: Int, tokens: Set<String> = [], maxLineLength: Int? = nil,
                maxConnections: Int = 256, maxInFlightBytesPerConnection: Int = 1 << 20) {
        self.host = host
        self.port = port
        self.tokens = tokens
        self.maxLineLength = maxLineLength
        self.maxConnections = maxConnections
        self.maxInFlightBytesPerConnection = maxInFlightBytesPerConnection
    }

    /// Parses `tcp://HOST:PORT`, `tcp:HOST:PORT` or `tcp:PORT` (host 127.0.0.1).
    public init?(spec: String) {
        var rest: Substring
        if spec.hasPrefix("tcp://") { rest = spec.dropFirst(6) }
        else if spec.hasPrefix("tcp:") { rest = spec.dropFirst(4) }
        else { return nil }
        var host = "127.0.0.1"
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            rest = rest[rest.index(after: colon)...]
        }
        guard let port = Int(rest), (0...65535).contains(port), !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }
}

public struct TCPListenerInfo: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The statistics source name, `tcp:HOST:PORT`; connection `k` lines have origin
    /// `tcp:HOST:PORT#k`.
    public var source: String
}

final class TCPListener: IngestSource, @unchecked Sendable {
    let counters: SourceCounters
    let isFinite = false
    let configuration: TCPListenerConfiguration
    /// Set by the hub that takes the listener (`attach`), before a connection is accepted: the
    /// port is bound before the hub exists (`IngestHub.bindTCPListener`).
    private var queue: IngestQueue?
    private var maxLineLength = 0
    private let group: MultiThreadedEventLoopGroup
    private var serverChannel: Channel?
    private(set) var info: TCPListenerInfo
    private let lock = Lock()
    private var connections: [ObjectIdentifier: Channel] = [:]
    private var nextConnection = 0
    private var stopping = false
    /// Said to the service's log (the hub's `onError`), set before `start`.
    var warn: (@Sendable (String) -> Void)?
    /// Refused connections (a wrong or missing token, too many connections) said since the
    /// last one said, and when that was.
    private var refusalsUnsaid = 0
    private var refusalSaidAt: UInt64?
    /// The latest refusal not yet said, and whether a task to say them is scheduled.
    private var lastUnsaid: (reason: String, peer: String)?
    private var refusalSayScheduled = false

    /// A connection refused: said in the log, the first at once and then at most once a minute
    /// (`refusalLogInterval`): those between are said together when the minute is up, with the
    /// latest's producer and reason. A producer with the wrong token, or probing, left no trace
    /// but a counter (the operators' user test); one line each would let a flood fill the log.
    /// The count was said only with the next refusal after the minute, so a burst that stopped
    /// was said by its first alone.
    func refused(_ reason: String, peer: String) {
        let now = Posix.monotonicNanos()
        let interval = UInt64(configuration.refusalLogInterval * 1e9)
        let sayNow: Bool = lock.withLock {
            if let at = refusalSaidAt, now &- at < interval {
                refusalsUnsaid += 1
                lastUnsaid = (reason, peer)
                if !refusalSayScheduled {
                    refusalSayScheduled = true
                    let wait = Int64(interval - (now &- at))
                    group.next().scheduleTask(in: .nanoseconds(wait)) { [weak self] in self?.sayUnsaidRefusals() }
                }
                return false
            }
            refusalSaidAt = now
            return true
        }
        if sayNow { warn?("input \(info.source): refused a connection from \(peer): \(reason)") }
    }

    /// The refusals of the minute after the last one said, together (scheduled by `refused`).
    private func sayUnsaidRefusals() {
        let said: (count: Int, last: (reason: String, peer: String))? = lock.withLock {
            refusalSayScheduled = false
            guard refusalsUnsaid > 0, let last = lastUnsaid else { return nil }
            defer { refusalsUnsaid = 0; lastUnsaid = nil; refusalSaidAt = Posix.monotonicNanos() }
            return (refusalsUnsaid, last)
        }
        guard let said else { return }
        let what = said.count == 1 ? "1 more connection" : "\(said.count) more connections"
        warn?("input \(info.source): refused \(what) since the last said (the latest from \(said.last.peer): \(said.last.reason))")
    }

    init(configuration: TCPListenerConfiguration) {
        self.configuration = configuration
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let name = "tcp:\(configuration.host):\(configuration.port)"
        self.info = TCPListenerInfo(host: configuration.host, port: configuration.port, source: name)
        self.counters = SourceCounters(source: name, kind: .tcp)
    }

    /// Binds and listens, but accepts nothing until `start`: a producer that connects before
    /// waits in the backlog, its lines unread.
    func bind() throws {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 256 * 1024))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = self.register(channel)
                    let handler = ConnectionHandler(listener: self, id: id)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        do {
            let ch = try bootstrap.bind(host: configuration.host, port: configuration.port).wait()
            serverChannel = ch
            let port = ch.localAddress?.port ?? configuration.port
            let name = "tcp:\(configuration.host):\(port)"
            info = TCPListenerInfo(host: configuration.host, port: port, source: name)
            counters.update { $0.source = name }
        } catch {
            try? group.syncShutdownGracefully()
            // Named, in words: NIO's own text ("bind(descriptor:ptr:bytes:): Address already in
            // use) (errno: 98)") named neither the address nor the fix.
            if let e = error as? IOError {
                throw TCPBindError(description: "cannot listen on tcp://\(configuration.host):\(configuration.port): \(String(cString: strerror(e.errnoCode)))"
                    + (e.errnoCode == EADDRINUSE ? " (another program, or another urgentflow, is listening there)" : ""))
            }
            throw error
        }
    }

    /// Returns the connection's sequence number, or nil when over the connection limit.
    private func register(_ channel: Channel) -> Int? {
        lock.withLock {
            if stopping || connections.count >= configuration.maxConnections {
                counters.update { $0.refusedConnections += 1 }
                return nil
            }
            nextConnection += 1
            connections[ObjectIdentifier(channel)] = channel
            counters.update { $0.connections += 1; $0.openConnections += 1 }
            return nextConnection
        }
    }

    fileprivate func unregister(_ channel: Channel) {
        lock.withLock {
            if connections.removeValue(forKey: ObjectIdentifier(channel)) != nil {
                counters.update { $0.openConnections -= 1 }
            }
        }
    }

    /// The hub's queue and line limit, set once, before `start` accepts the first connection.
    func attach(queue: IngestQueue, maxLineLength: Int) {
        precondition(self.queue == nil, "a bound TCP listener is taken by one hub")
        self.queue = queue
        self.maxLineLength = maxLineLength
    }

    // Connections are only accepted after `attach` (`start`).
    fileprivate var queueRef: IngestQueue { queue! }
    fileprivate var lineLimit: Int { maxLineLength }

    /// Accepts connections from now on, those waiting in the backlog first.
    func start() {
        _ = try? serverChannel?.setOption(.autoRead, value: true).wait()
    }

    func stop() {
        let open: [Channel] = lock.withLock {
            stopping = true
            return Array(connections.values)
        }
        try? serverChannel?.close().wait()
        for ch in open {
            ch.eventLoop.execute {
                // Stop reading; what was already framed is still consumed and acknowledged.
                _ = ch.pipeline.handler(type: ConnectionHandler.self).map { $0.stopReading() }
            }
        }
    }

    func join() {
        _ = try? serverChannel?.closeFuture.wait()
    }

    /// After the consumer drained: close every connection (after the acknowledgements already
    /// scheduled) and stop the event loop.
    func closeAfterDrain() {
        let open: [Channel] = lock.withLock { Array(connections.values) }
        for ch in open {
            _ = try? ch.close().wait()
        }
        try? group.syncShutdownGracefully()
        counters.update { $0.finished = true }
    }
}

/// Receives acknowledgements on the consumer thread and hops to the connection's event loop.
final class ConnectionSink: AckSink, @unchecked Sendable {
    private let handler: NIOLoopBound<ConnectionHandler>
    private let eventLoop: EventLoop
    init(handler: ConnectionHandler, eventLoop: EventLoop) {
        self.handler = NIOLoopBound(handler, eventLoop: eventLoop)
        self.eventLoop = eventLoop
    }
    func acknowledge(_ acks: [Ack], byteCost: Int) {
        let h = handler
        eventLoop.execute { h.value.deliver(acks, cost: byteCost) }
    }
}

final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let listener: TCPListener
    private let id: Int?
    private var source: String
    /// The producer's address (`host:port`), for the log.
    private var peer = "an unknown address"
    private var framer: LineFramer
    private var context: ChannelHandlerContext?
    private var sink: ConnectionSink?
    private var batch: LineBatch?
    private var authLines = 0
    private var pendingAuthFlush = false
    private var firstLineSeen = false
    private var closing = false
    private var stopped = false
    private var inputClosed = false
    private var pendingCost = 0
    private var pausedForQueue = false
    private var readPending = false
    private var incompleteLine: Int?

    init(listener: TCPListener, id: Int?) {
        self.listener = listener
        self.id = id
        self.source = LineOrigin.connectionSource(listener: listener.info.source, connection: id ?? 0, peer: nil)
        self.framer = LineFramer(maxLineLength: listener.lineLimit)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let peer = context.remoteAddress {
            let port = peer.port.map { ":\($0)" } ?? ""
            let host = peer.ipAddress.map { peer.protocol == .inet6 ? "[\($0)]" : $0 } ?? "\(peer)"
            source = LineOrigin.connectionSource(listener: listener.info.source, connection: id ?? 0, peer: host + port)
            self.peer = host + port
        }
        self.sink = ConnectionSink(handler: self, eventLoop: context.eventLoop)
    }

    func channelActive(context: ChannelHandlerContext) {
        if id == nil {
            closing = true
            listener.refused("too many connections (\(listener.configuration.maxConnections) at once)", peer: peer)
            writeThenClose(context, "err 0 too_many_connections\n")
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let dropped = framer.dropPending()
        if dropped > 0 { listener.counters.update { $0.droppedPartialBytes += dropped } }
        flushBatch()
        listener.unregister(context.channel)
        self.sink = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, !stopped else { return }
        let buffer = unwrapInboundIn(data)
        listener.counters.update { $0.bytesRead += buffer.readableBytes }
        buffer.withUnsafeReadableBytes { raw in
            framer.feed(raw) { event in handle(event, context: context) }
        }
        if let b = batch, b.bytes.count >= 256 * 1024 { flushBatch() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushBatch()
        // `ok auth` is written without a flush; a producer that waits for it before sending
        // its first line must get it now.
        if pendingAuthFlush {
            pendingAuthFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            inputClosed = true
            flushBatch()
            if framer.hasPendingLine {
                let dropped = framer.dropPending()
                listener.counters.update { $0.droppedPartialBytes += dropped }
                incompleteLine = framer.lineNumber + 1 - authLines
            }
            closeIfDone(context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeIfPossible(context)
        context.fireChannelWritabilityChanged()
    }

    // Outbound `read`: withheld while this connection must not be read (back-pressure).
    func read(context: ChannelHandlerContext) {
        if shouldPause(context) {
            readPending = true
        } else {
            context.read()
        }
    }

    private func shouldPause(_ context: ChannelHandlerContext) -> Bool {
        stopped || closing || pausedForQueue
            || pendingCost >= listener.configuration.maxInFlightBytesPerConnection
            || !context.channel.isWritable
    }

    private func resumeIfPossible(_ context: ChannelHandlerContext) {
        if pausedForQueue && pendingCost == 0 { pausedForQueue = false }
        if readPending && !shouldPause(context) {
            readPending = false
            context.read()
        }
    }

    func stopReading() {
        stopped = true
        flushBatch()
    }

    private func handle(_ event: LineFramer.Event, context: ChannelHandlerContext) {
        guard !closing else { return }
        if !firstLineSeen {
            firstLineSeen = true
            let tokens = listener.configuration.tokens
            if case let .line(raw, _) = event, raw.starts(with: Array("AUTH ".utf8)) {
                authLines = 1
                let token = String(decoding: raw.dropFirst(5), as: UTF8.self)
                if tokens.isEmpty || tokens.contains(token) {
                    write(context, "ok auth\n", flush: false)
                    pendingAuthFlush = true
                } else {
                    fail(context, "bad_token")
                }
                return
            }
            if !tokens.isEmpty {
                fail(context, "auth_required")
                return
            }
        }
        if batch == nil, let sink {
            batch = LineBatch(source: source, stats: listener.counters, sink: sink, reserve: 16 * 1024, lineLimit: listener.lineLimit)
        }
        switch event {
        case let .line(raw, number):
            batch?.add(.line(raw, number: number - authLines))
        case let .tooLong(number, length):
            batch?.add(.tooLong(number: number - authLines, length: length))
        }
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        closing = true
        listener.counters.update { $0.authFailures += 1 }
        listener.refused(reason == "bad_token" ? "a token the service does not have" : "no token (AUTH <token> first)", peer: peer)
        writeThenClose(context, "err auth \(reason)\n")
    }

    private func flushBatch() {
        guard let b = batch, !b.isEmpty else { return }
        batch = nil
        let queue = listener.queueRef
        let cost = b.byteCost
        guard queue.offer(.batch(b), cost: cost) else { return }
        pendingCost += cost
        if queue.isOverCapacity {
            if !pausedForQueue { listener.counters.update { $0.throttled += 1 } }
            pausedForQueue = true
        }
    }

    func deliver(_ acks: [Ack], cost: Int) {
        pendingCost -= cost
        guard let context, context.channel.isActive else { return }
        var out = context.channel.allocator.buffer(capacity: acks.count * 12)
        for a in acks {
            switch a.verdict {
            case .accepted:
                out.writeString("ok \(a.line)\n")
            case let .acceptedNoting(note):
                out.writeString("ok \(a.line) \(sanitize(note))\n")
            case let .rejected(reason):
                out.writeString("err \(a.line) \(sanitize(reason))\n")
            }
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        resumeIfPossible(context)
        closeIfDone(context)
    }

    private func closeIfDone(_ context: ChannelHandlerContext) {
        guard inputClosed, pendingCost == 0, batch == nil, !closing else { return }
        closing = true
        if let n = incompleteLine {
            write(context, "err \(n) \(IngestReason.incompleteLine)\n", flush: false)
        }
        writeThenClose(context, nil)
    }

    /// Writes `s` (if any) and closes once everything written before has left.
    private func writeThenClose(_ context: ChannelHandlerContext, _ s: String?) {
        let buf = context.channel.allocator.buffer(string: s ?? "")
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        context.writeAndFlush(wrapOutboundOut(buf)).whenComplete { _ in
            // Never close synchronously: we may be inside the framer's callback.
            loop.execute { bound.value.close(promise: nil) }
        }
    }

    private func write(_ context: ChannelHandlerContext, _ s: String, flush: Bool) {
        let buf = context.channel.allocator.buffer(string: s)
        if flush { context.writeAndFlush(wrapOutboundOut(buf), promise: nil) }
        else { context.write(wrapOutboundOut(buf), promise: nil) }
    }

    private func sanitize(_ reason: String) -> String {
        var s = reason
        if s.contains(where: { $0 == "\n" || $0 == "\r" }) {
            s = String(s.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        }
        return s.isEmpty ? "rejected" : s
    }
}

/// A TCP listener bound before the hub it will feed exists (`IngestHub.bindTCPListener`): the
/// port is held from then on, and a producer that connects meanwhile waits in the backlog, its
/// lines unread, until a hub takes the listener (`IngestHub.addTCPListener(_:)`). `run` and
/// `record` bind first, so that a port in use fails the start before anything is made on disk.
public final class BoundTCPListener: Sendable {
    let listener: TCPListener
    init(_ listener: TCPListener) { self.listener = listener }
    public var info: TCPListenerInfo { listener.info }
}

/// A listener that could not bind, said with its address.
public struct TCPBindError: Error, CustomStringConvertible {
    public let description: String
}
