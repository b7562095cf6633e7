import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `urgentflow ack` against a service that does not answer in time: the line was sent, and a
/// paused or busy service may still apply it. It said "refused: no answer", and the on-call
/// manager took the alert for unacknowledged when it was acknowledged after all (the operators'
/// user test).
@Suite struct OperatorCommandCLITests {
    /// A listener that takes connections (the kernel completes them) and never answers.
    static func silentListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        #expect(bound == 0 && listen(fd, 4) == 0)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    @Test func noAnswerInTimeIsNotARefusal() throws {
        let (fd, port) = try Self.silentListener()
        defer { close(fd) }
        let r = try HeadlessReplayCLITests.urgentflow(["ack", "handover_queue", "RWH", "--by", "Priya Shah", "--to", "tcp://127.0.0.1:\(port)",
                                                      "--timeout", "1"])
        #expect(r.status != 0)
        #expect(r.err.contains("no answer from tcp://127.0.0.1:\(port) within 1 s: the service may still apply it"), "\(r.err)")
        #expect(!r.err.contains("refused"), "\(r.err)")
    }

    /// A listener that answers each connection's first line with `answer`.
    static func answering(_ answer: String, _ body: (Int) throws -> Void) throws {
        let (fd, port) = try silentListener()
        defer { close(fd) }
        let server = Thread {
            let conn = accept(fd, nil, nil)
            guard conn >= 0 else { return }
            var buf = [UInt8](repeating: 0, count: 4096)
            _ = recv(conn, &buf, buf.count, 0)
            _ = Array((answer + "\n").utf8).withUnsafeBytes { send(conn, $0.baseAddress, $0.count, 0) }
            close(conn)
        }
        server.start()
        try body(port)
    }

    /// An acknowledgement that replaced one in force prints whose (ops user test: a second ack
    /// replaced Gus Ives's without a word).
    @Test func ackPrintsWhoseAcknowledgementItReplaced() throws {
        let said = "replaced Gus Ives's acknowledgement of opel at NDA given Wed 25 Nov 2026 03:40 GMT (on it)"
        try Self.answering("ok 1 " + said) { port in
            let r = try HeadlessReplayCLITests.urgentflow(["ack", "opel", "NDA", "--by", "Someone Else", "--to", "tcp://127.0.0.1:\(port)", "--timeout", "5"])
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out.contains("acknowledged opel at NDA by Someone Else; it " + said), "\(r.out)")
        }
    }

    /// `--for -1h` is taken as the length and refused as negative, where ArgumentParser read it
    /// as an option and said `Missing value for '--for <for>'` (ops user test).
    @Test func aNegativeSilenceLengthIsRefusedAsNegative() throws {
        let r = try HeadlessReplayCLITests.urgentflow(["silence", "RWH", "--for", "-1h", "--by", "Chris", "--why", "drill",
                                                      "--to", "tcp://127.0.0.1:9", "--timeout", "1"])
        #expect(r.status != 0)
        #expect(r.err.contains("--for -1h is a negative length"), "\(r.err)")
        #expect(!r.err.contains("Missing value"), "\(r.err)")
    }

    /// What the service says after `ok N` reaches the one silencing: a silence that replaced a
    /// colleague's says so, and `--for 0s` with none in force no longer says one ended.
    @Test func silencePrintsWhatItReplacedAndSaysWhenNothingEnded() throws {
        try Self.answering("ok 1 replaced Priya Shah's silence of handover_queue at RWH until Tue 24 Nov 2026 18:00 GMT (diverting)") { port in
            let r = try HeadlessReplayCLITests.urgentflow(["silence", "RWH", "--for", "30m", "--by", "Chris", "--why", "drill",
                                                          "--to", "tcp://127.0.0.1:\(port)", "--timeout", "5"])
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out.contains("silenced every alert at RWH until "), "\(r.out)")
            #expect(r.out.contains("; it replaced Priya Shah's silence of handover_queue at RWH until Tue 24 Nov 2026 18:00 GMT (diverting)"), "\(r.out)")
        }
        try Self.answering("ok 1") { port in
            let r = try HeadlessReplayCLITests.urgentflow(["silence", "RWH", "--for", "0s", "--by", "Chris", "--why", "over",
                                                          "--to", "tcp://127.0.0.1:\(port)", "--timeout", "5"])
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out.contains("no silence of every alert at RWH was in force: nothing ended"), "\(r.out)")
        }
    }
}
