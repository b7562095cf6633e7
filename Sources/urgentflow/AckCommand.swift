import ArgumentParser
import FlowCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// For on-call staff away from the dashboard: acknowledges an alert on a running service by
/// sending an operator line to its TCP listener. The service journals it before answering, so
/// an acknowledgement that was answered `ok` survives a crash; notifications stop repeating.
struct Ack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Acknowledge an active alert on a running urgentflow service (urgentflow run --listen ...).",
        discussion: "Example: urgentflow ack ga_occupancy RWH --by \"Priya Shah\" --note \"opening ward 7\"")

    @Argument(help: "The alert's rule id (e.g. ga_occupancy).")
    var rule: String

    @Argument(help: "The alert's site code (e.g. RWH, or SYSTEM).")
    var site: String

    @Option(help: "Who acknowledges (name as the on-call rota knows it).")
    var by: String

    @Option(help: "An optional note (what is being done).")
    var note: String?

    @Option(help: "The service's listener.")
    var to: String = "tcp://127.0.0.1:5514"

    @Option(help: "Shared token of the listener, if it has one.")
    var token: String?

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 10

    func validate() throws {
        if by.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--by must name who acknowledges") }
        if parseAddress(to) == nil { throw ValidationError("--to must be tcp://HOST:PORT") }
    }

    func parseAddress(_ s: String) -> (host: String, port: UInt16)? {
        var rest = Substring(s)
        if rest.hasPrefix("tcp://") { rest = rest.dropFirst(6) }
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else { return nil }
        let host = String(rest[..<colon])
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    func run() throws {
        let (host, port) = parseAddress(to)!
        let now = EventTime(millis: Int64(Date().timeIntervalSince1970 * 1000))
        let action = OperatorAction(id: "ack-cli-\(now.millis)-\(getpid())", at: now,
                                    kind: .acknowledge(rule: rule, site: site, by: by, note: note))
        var payload = ""
        if let token { payload += "AUTH \(token)\n" }
        payload += action.jsonLine + "\n"
        let answer = try exchange(host: host, port: port, payload: payload, expectLines: token == nil ? 1 : 2)
        let last = answer.last ?? ""
        if token != nil, answer.first != "ok auth" {
            throw CLIError("the service refused the token: \(answer.first ?? "no answer")")
        }
        if last.hasPrefix("ok ") {
            print("acknowledged \(rule) at \(site) by \(by)")
        } else {
            let reason = last.split(separator: " ", maxSplits: 2).dropFirst(2).first.map(String.init) ?? last
            throw CLIError("not acknowledged: \(reason.isEmpty ? "no answer from \(to)" : reason)")
        }
    }

    /// Sends the payload, half-closes, and reads answer lines.
    func exchange(host: String, port: UInt16, payload: String, expectLines: Int) throws -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else {
            throw CLIError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard fd >= 0 else { throw CLIError("cannot open a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            throw CLIError("cannot reach the service at \(to): \(String(cString: strerror(errno)))")
        }
        var bytes = Array(payload.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw CLIError("the service closed the connection") }
            off += n
        }
        shutdown(fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while received.filter({ $0 == 10 }).count < expectLines {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            received += buf[0..<n]
        }
        return String(decoding: received, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
