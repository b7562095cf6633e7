import ArgumentParser
import FlowCore
import FlowLive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `urgentflow loadgen` (hidden): the load generator of Benchmarks/live-ingest.sh.
///
/// - `throughput`: N connections each send `--lines` valid messages (~130 bytes) as fast as the
///   server takes them and read every acknowledgement; prints accepted messages per second
///   from the first byte sent to the last `ok` received.
/// - `latency`: `--rate` messages a second of background traffic for `--seconds`, plus a bed
///   message at RWH every `--trigger-every` seconds (default 0.1) alternating 97% / 80%
///   occupancy (a rule firing / resolving); watches the alert log and prints, per transition,
///   the time from the triggering line written to the socket to its line appearing in the alert
///   log (monotonic clock, microseconds), and the part after the transition's instant.
struct Loadgen: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "loadgen", abstract: "Benchmark load generator (see Benchmarks/live-ingest.sh).",
                                                    shouldDisplay: false)

    @Argument(help: "throughput or latency")
    var mode: String

    @Option var port: Int
    @Option var connections: Int = 2
    @Option var lines: Int = 500_000
    @Option var rate: Int = 1000
    @Option var seconds: Double = 10
    @Option(name: .customLong("trigger-every")) var triggerEvery: Double = 0.1
    @Option(name: .customLong("alert-log")) var alertLog: String?

    func run() throws {
        switch mode {
        case "throughput": try throughput()
        case "latency": try latency()
        default: throw CLIError("mode: throughput or latency")
        }
    }

    static func connect(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw CLIError("connect 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = send(fd, bytes.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL))
            if n < 0 { if errno == EINTR { continue }; return false }
            off += n
        }
        return true
    }

    /// ~130-byte messages of three feeds at sites of the bundled configuration.
    static func message(_ i: Int, conn: Int, at: String) -> String {
        switch i % 4 {
        case 0, 1:
            let site = ["RWH", "RWG", "RQW"][i % 3]
            return "{\"feed\":\"bed\",\"id\":\"c\(conn)-\(i)\",\"at\":\"\(at)\",\"site\":\"\(site)\",\"ga_core_open\":640,\"ga_core_occupied\":\(500 + i % 100)}"
        case 2:
            return "{\"feed\":\"111\",\"id\":\"c\(conn)-\(i)\",\"at\":\"\(at)\",\"site\":\"HUC\",\"offered\":96,\"answered\":91,\"answered_60s\":63,\"abandoned\":4}"
        default:
            return "{\"feed\":\"ambulance\",\"id\":\"c\(conn)-\(i)\",\"at\":\"\(at)\",\"site\":\"EEAST\",\"kind\":\"status\",\"stack_waiting\":\(i % 300)}"
        }
    }

    func throughput() throws {
        let at = RFC3339.format(WallClock.now())
        var payloads: [[UInt8]] = []
        var bytes = 0
        for c in 0..<connections {
            var buf: [UInt8] = []
            buf.reserveCapacity(lines * 140)
            for i in 0..<lines { buf += Array(Self.message(i, conn: c, at: at).utf8); buf.append(0x0A) }
            bytes += buf.count
            payloads.append(buf)
        }
        let fds = try (0..<connections).map { _ in try Self.connect(port) }
        let counts = Counts(connections)
        let start = WallClock.monotonicNanos()
        var threads: [Thread] = []
        let group = DispatchGroup()
        for c in 0..<connections {
            let fd = fds[c]
            let payload = payloads[c]
            let n = lines
            group.enter()
            let writer = Thread { payload.withUnsafeBytes { _ = Self.sendAll(fd, $0) } }
            let reader = Thread {
                var buf = [UInt8](repeating: 0, count: 1 << 16)
                var seen = 0, ok = 0, err = 0
                var atLineStart = true
                outer: while seen < n {
                    let r = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if r <= 0 { break }
                    for k in 0..<r {
                        if atLineStart { if buf[k] == UInt8(ascii: "o") { ok += 1 } else { err += 1 } }
                        atLineStart = buf[k] == 0x0A
                        if atLineStart { seen += 1; if seen == n { break outer } }
                    }
                }
                counts.set(c, ok, err)
                group.leave()
            }
            threads += [writer, reader]
            writer.start(); reader.start()
        }
        group.wait()
        let secs = Double(WallClock.monotonicNanos() - start) / 1e9
        let (ok, err) = counts.totals()
        for fd in fds { close(fd) }
        print(String(format: "throughput: %d connections, %d lines (%.0f bytes/line): %d ok, %d err in %.3f s = %.0f msg/s",
                     connections, connections * lines, Double(bytes) / Double(connections * lines), ok, err, secs, Double(ok) / secs))
    }

    func latency() throws {
        guard let alertLog else { throw CLIError("--alert-log is needed") }
        let fd = try Self.connect(port)
        let logFD = open(alertLog, O_RDONLY | O_CREAT, 0o644)
        guard logFD >= 0 else { throw CLIError("cannot open \(alertLog)") }
        var logOffset = lseek(logFD, 0, SEEK_END)
        // Drain acknowledgements in the background (the server must not be held up).
        Thread.detachNewThread {
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while recv(fd, &buf, buf.count, 0) > 0 {}
        }
        struct Trigger { var sentMillis: Int64; var sentNanos: UInt64; var value: Int }
        var triggers: [Trigger] = []
        var observed: [(millis: Int64, nanos: UInt64, line: String)] = []
        var pending: [UInt8] = []
        let interval = 1e9 / Double(rate)
        let start = WallClock.monotonicNanos()
        let end = start + UInt64(seconds * 1e9)
        var sent = 0
        var nextTrigger = start + 500_000_000
        var flip = false
        var readBuf = [UInt8](repeating: 0, count: 1 << 16)
        func pollLog() {
            while true {
                let n = readBuf.withUnsafeMutableBytes { pread(logFD, $0.baseAddress, $0.count, logOffset) }
                if n <= 0 { return }
                let now = WallClock.now().millis, nanos = WallClock.monotonicNanos()
                logOffset += off_t(n)
                pending += readBuf[..<n]
                while let i = pending.firstIndex(of: 0x0A) {
                    observed.append((now, nanos, String(decoding: pending[..<i], as: UTF8.self)))
                    pending.removeSubrange(...i)
                }
            }
        }
        while true {
            let now = WallClock.monotonicNanos()
            if now >= end { break }
            let due = start + UInt64(Double(sent) * interval)
            if now >= due {
                var line: String
                if now >= nextTrigger {
                    flip.toggle()
                    let v = flip ? 97 : 80
                    line = "{\"feed\":\"bed\",\"id\":\"t\(sent)\",\"at\":\"\(RFC3339.format(WallClock.now()))\",\"site\":\"RWH\",\"ga_core_open\":100,\"ga_core_occupied\":\(v)}\n"
                    triggers.append(Trigger(sentMillis: WallClock.now().millis, sentNanos: WallClock.monotonicNanos(), value: v))
                    nextTrigger += UInt64(triggerEvery * 1e9)
                } else {
                    line = "{\"feed\":\"111\",\"id\":\"g\(sent)\",\"at\":\"\(RFC3339.format(WallClock.now()))\",\"site\":\"HUC\",\"offered\":96,\"answered\":91,\"answered_60s\":63,\"abandoned\":4}\n"
                }
                _ = line.withUTF8 { Self.sendAll(fd, UnsafeRawBufferPointer($0)) }
                sent += 1
            } else {
                pollLog()
                usleep(100)
            }
        }
        // Let the last tick land (bounded).
        let drainUntil = WallClock.monotonicNanos() + 2_500_000_000
        while WallClock.monotonicNanos() < drainUntil { pollLog(); usleep(200) }
        close(fd)
        var e2e: [Double] = [], afterTick: [Double] = []
        for (obs, obsNanos, line) in observed {
            guard let tick = TransitionLog.at(of: line)?.millis, line.contains("\"rule\":\"ga_occupancy\"") else { continue }
            let value = line.contains("\"value\":97") ? 97 : (line.contains("\"value\":80") ? 80 : -1)
            guard let trig = triggers.last(where: { $0.sentMillis <= tick && $0.value == value }) else { continue }
            e2e.append(Double(obsNanos &- trig.sentNanos) / 1e6)
            afterTick.append(Double(obs - max(tick, trig.sentMillis)))
        }
        func pct(_ a: [Double], _ p: Double) -> Double {
            guard !a.isEmpty else { return .nan }
            let s = a.sorted()
            return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
        }
        print(String(format: "latency: %d lines at %d/s target (%.0f/s sent), %d triggering lines, %d transitions matched",
                     sent, rate, Double(sent) / (seconds), triggers.count, e2e.count))
        print(String(format: "  socket line -> alert log (end to end): median %.2f ms, p99 %.2f ms, max %.2f ms", pct(e2e, 0.5), pct(e2e, 0.99), e2e.max() ?? .nan))
        print(String(format: "  transition instant -> alert log:      median %.1f ms, p99 %.1f ms (its `at`: 1 ms resolution)", pct(afterTick, 0.5), pct(afterTick, 0.99)))
    }
}

final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var ok: [Int], err: [Int]
    init(_ n: Int) { ok = Array(repeating: 0, count: n); err = ok }
    func set(_ c: Int, _ o: Int, _ e: Int) { lock.lock(); ok[c] = o; err[c] = e; lock.unlock() }
    func totals() -> (Int, Int) { lock.lock(); defer { lock.unlock() }; return (ok.reduce(0, +), err.reduce(0, +)) }
}
