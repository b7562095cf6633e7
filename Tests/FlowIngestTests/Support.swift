import Foundation
@testable import FlowIngest
#if canImport(Glibc)
import Glibc
#endif

/// A consumer that records what it saw; rejects lines starting with `bad` (reason `bad_type`).
final class RecordingConsumer: LineConsumer, @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [(String, LineOrigin)] = []
    private var _before: [(LineOrigin, String)] = []
    private var _batches = 0
    private var _ticks = 0
    let delayPerBatch: Double

    init(delayPerBatch: Double = 0) { self.delayPerBatch = delayPerBatch }

    func consume(_ line: ArraySlice<UInt8>, origin: LineOrigin) -> LineVerdict {
        let s = String(decoding: line, as: UTF8.self)
        lock.withLock { _lines.append((s, origin)); _events.append(s) }
        return s.hasPrefix("bad") ? .rejected(reason: "bad_type") : .accepted
    }
    func rejectedBeforeConsume(origin: LineOrigin, reason: String) {
        lock.withLock { _before.append((origin, reason)) }
    }
    func batchDidEnd() {
        lock.withLock { _batches += 1; _events.append("end") }
        if delayPerBatch > 0 { Thread.sleep(forTimeInterval: delayPerBatch) }
    }
    func tick() { lock.withLock { _ticks += 1 } }
    /// Lines, `journalHeld` calls (`held`, `writes`) and ends of rounds (`end`), in order.
    private var _events: [String] = []
    func journalHeld(_ held: Bool) { lock.withLock { _events.append(held ? "held" : "writes") } }
    var events: [String] { lock.withLock { _events } }
    /// `events` without the ends of rounds.
    var lineEvents: [String] { events.filter { $0 != "end" } }

    var lines: [String] { lock.withLock { _lines.map(\.0) } }
    var entries: [(String, LineOrigin)] { lock.withLock { _lines } }
    var rejectedBefore: [(LineOrigin, String)] { lock.withLock { _before } }
    var ticks: Int { lock.withLock { _ticks } }
}

/// What a hub says through its callbacks, in order (any thread).
final class Said: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns its last value.
@discardableResult
func eventually(within seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

final class TempDir {
    let path: String
    init() {
        var template = Array((NSTemporaryDirectory() + "/flowingest-XXXXXX").utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: p!)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

func writeFile(_ path: String, _ s: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(s.utf8))
}

func appendFile(_ path: String, _ s: String) {
    let h = FileHandle(forWritingAtPath: path)!
    h.seekToEndOfFile()
    h.write(Data(s.utf8))
    try? h.close()
}

func readFile(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}

/// A mutable day for journal tests.
final class DayClock: @unchecked Sendable {
    private let lock = NSLock()
    private var day: String
    init(_ day: String) { self.day = day }
    func set(_ d: String) { lock.withLock { day = d } }
    var now: String { lock.withLock { day } }
}

/// Frames `input` fed in chunks of `chunk` bytes; returns events as text.
func frame(_ input: String, max: Int = 1 << 16, chunk: Int = 1 << 20, finish: Bool = true) -> [String] {
    var framer = LineFramer(maxLineLength: max)
    var out: [String] = []
    let bytes = Array(input.utf8)
    var i = 0
    let record: (LineFramer.Event) -> Void = { ev in
        switch ev {
        case let .line(raw, n): out.append("\(n):\(String(decoding: raw, as: UTF8.self))")
        case let .tooLong(n, len): out.append("\(n):TOO_LONG(\(len))")
        }
    }
    while i < bytes.count {
        let j = Swift.min(bytes.count, i + chunk)
        bytes[i..<j].withUnsafeBytes { framer.feed($0, record) }
        i = j
    }
    if finish { framer.finish(record) }
    return out
}

/// A blocking loopback TCP client with bounded reads.
final class TestClient: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var eof = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { throw IngestIOError("connect", path: "127.0.0.1:\(port)") }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close(fd) }

    func send(_ s: String) {
        let b = Array(s.utf8)
        var off = 0
        while off < b.count {
            let n = b[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Abortive close (RST), like a producer that crashed.
    func abort() {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private func fill() {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { eof = true } else if n > 0 { buffer.append(contentsOf: chunk[0..<n]) }
    }

    /// The next line, or nil on close or after `seconds`.
    func readLine(within seconds: Double = 15) -> String? { readLines(1, within: seconds).first }

    /// Reads lines until `count` lines arrived, EOF, or `seconds` passed.
    func readLines(_ count: Int, within seconds: Double = 10) -> [String] {
        var lines: [String] = []
        let deadline = Date(timeIntervalSinceNow: seconds)
        while true {
            while lines.count < count, let i = buffer.firstIndex(of: 0x0A) {
                lines.append(String(decoding: buffer[..<i], as: UTF8.self))
                buffer.removeSubrange(...i)
            }
            if lines.count >= count || eof || Date() >= deadline { break }
            fill()
        }
        return lines
    }

    /// Reads until the server closes (or `seconds` pass); returns the remaining lines.
    func readToEOF(within seconds: Double = 10) -> [String] {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !eof && Date() < deadline { fill() }
        return readLines(Int.max, within: 0)
    }
}

/// A system of one acute unit (Lister, RWH) as YAML, with its tick and its `rules:` entries
/// (indented as list items under `rules:`).
func listerSystemYAML(name: String, tick: String, rules: String) -> String {
    """
    system:
      name: \(name)
      timezone: Europe/London
      tick: \(tick)
    units:
      - code: RWH
        name: Lister Hospital
        kind: acute
        beds: 700
    rules:
    \(rules)
    """
}
