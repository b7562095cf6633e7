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
}
