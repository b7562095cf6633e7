import Foundation
import NIOCore
import NIOPosix
import NIOHTTP1

/// A small blocking HTTP/1.1 client over SwiftNIO: one request per connection
/// (`Connection: close`), with one deadline covering connect, send and response. Enough for a
/// webhook or the Alertmanager API on a local network; no TLS (use a local relay for https).
public enum HTTPClient {
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// The shared event loop group of the notifiers (one thread).
    public static let group: MultiThreadedEventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    public static func request(_ method: HTTPMethod, _ target: HTTPTarget, body: [UInt8]? = nil, headers: [(String, String)] = [],
                               timeout: Double) throws -> Response {
        let loop = group.next()
        let promise = loop.makePromise(of: Response.self)
        let deadline = TimeAmount.milliseconds(Int64(max(0.001, timeout) * 1000))
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(deadline)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
        let timer = loop.scheduleTask(in: deadline) {
            promise.fail(NotifyIOError("HTTP \(method) http://\(target.host):\(target.port)\(target.path): no response within \(timeout)s"))
        }
        defer { timer.cancel() }
        let channel: Channel
        do {
            channel = try bootstrap.connect(host: target.host, port: target.port).wait()
        } catch {
            promise.fail(error)
            throw NotifyIOError("HTTP \(method) http://\(target.host):\(target.port)\(target.path): cannot connect: \(error)")
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target.path)
        head.headers.add(name: "Host", value: target.port == 80 ? target.host : "\(target.host):\(target.port)")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "urgentflow")
        for (k, v) in headers { head.headers.add(name: k, value: v) }
        if let body {
            head.headers.add(name: "Content-Length", value: String(body.count))
            if !head.headers.contains(name: "Content-Type") { head.headers.add(name: "Content-Type", value: "application/json") }
        }
        let buffer = body.map { channel.allocator.buffer(bytes: $0) }
        let requestHead = head
        channel.eventLoop.execute {
            channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
            if let buffer { channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { promise.fail($0) }
        }
        defer { channel.close(promise: nil) }
        do {
            return try promise.futureResult.wait()
        } catch let e as NotifyIOError {
            throw e
        } catch {
            // A connection reset or closed before any answer (e.g. a receiver going down).
            throw NotifyIOError("HTTP \(method) http://\(target.host):\(target.port)\(target.path): cannot connect: the connection was lost before an answer: \(error)")
        }
    }
}

private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<HTTPClient.Response>
    var status = 0
    var body: [UInt8] = []
    var done = false

    init(promise: EventLoopPromise<HTTPClient.Response>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): status = Int(h.status.code)
        case .body(var b):
            if body.count < 4_000_000, let bytes = b.readBytes(length: b.readableBytes) { body += bytes }
        case .end:
            done = true
            promise.succeed(HTTPClient.Response(status: status, body: body))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { promise.fail(NotifyIOError("connection closed before a complete response")) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !done { promise.fail(error) }
        context.close(promise: nil)
    }
}

/// POSTs the notification JSON (docs/notifications.md, "Webhook body") to a URL, with the
/// idempotency key in the `Idempotency-Key` header. Any 2xx is success.
public final class WebhookNotifier: Notifier, @unchecked Sendable {
    public let name: String
    public let target: HTTPTarget
    public let timeout: Double
    public let headers: [String: String]

    public init(name: String, target: HTTPTarget, timeout: Double, headers: [String: String] = [:]) {
        self.name = name
        self.target = target
        self.timeout = timeout
        self.headers = headers
    }

    public func deliver(_ n: AlertNotification) throws {
        var h: [(String, String)] = [("Idempotency-Key", n.id), ("X-Urgentflow-Kind", n.kind.rawValue)]
        for k in headers.keys.sorted() { h.append((k, headers[k]!)) }
        let r = try HTTPClient.request(.POST, target, body: NotificationJSON.encode(n), headers: h, timeout: timeout)
        guard (200..<300).contains(r.status) else {
            throw NotifyIOError("\(name): HTTP \(r.status) from \(target.host):\(target.port)\(target.path): \(r.text.prefix(200))")
        }
    }
}
