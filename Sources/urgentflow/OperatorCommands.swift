import ArgumentParser
import FlowCore
import FlowIngest
import FlowLive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// For on-call staff away from the dashboard: acknowledges an alert on a running service by
/// sending an operator line to its TCP listener. The service journals it before answering, so
/// an acknowledgement that was answered `ok` survives a crash; notifications stop repeating.
struct Ack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
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

    @OptionGroup var service: ServiceOption

    func validate() throws {
        if by.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--by must name who acknowledges") }
        // Said here, as the service would say it: a note long enough to pass the line limit was
        // answered `line_too_long`, which says nothing of the note (the operators' user test).
        if let note, note.count > 1000 { throw ValidationError("--note must be at most 1000 characters (it has \(note.count))") }
        try service.validate()
    }

    func run() throws {
        let now = WallClock.now()
        let action = OperatorAction(id: "ack-cli-\(now.millis)-\(getpid())", at: now,
                                    kind: .acknowledge(rule: rule, site: site, by: by, note: note))
        // The service says whose acknowledgement in force this one replaced: a second one
        // replaced the first without a word (ops user test).
        let note = try service.send(action)
        print("acknowledged \(rule) at \(site) by \(by)" + (note.map { "; it \($0)" } ?? ""))
    }
}

/// For on-call staff: silences the notifications of a site's alerts, or of one rule there, for a
/// time, with who and why. When it ends and the alert is still active, it is notified again.
struct SilenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Silence the notifications of a site (or one rule there) on a running service, for a time.",
        discussion: "Example: urgentflow silence RWH handover_queue --for 2h --by \"Priya Shah\" --why \"diverting to Watford\".\n\n--for 0s ends the matching silences now.")

    @Argument(help: "The site code (e.g. RWH, or SYSTEM).")
    var site: String

    @Argument(help: "One rule id; omit to silence every alert of the site.")
    var rule: String?

    // Taken whatever it starts with: `--for -1h` was read as an option, and ArgumentParser
    // said `Missing value for '--for <for>'`; it is refused below, saying why.
    @Option(name: .customLong("for"), parsing: .unconditional, help: "How long (e.g. 30m, 2h); 0s ends the silence.")
    var duration: String

    @Option(help: "Who silences.")
    var by: String

    @Option(help: "Why (shown on the dashboard and in the alert log).")
    var why: String

    @OptionGroup var service: ServiceOption

    func validate() throws {
        if duration.hasPrefix("-") {
            throw ValidationError("--for \(duration) is a negative length: a silence lasts from now for up to 7d (30m, 2h); --for 0s ends one")
        }
        guard let d = Duration.parse(duration), d.millis >= 0, d <= FlowEngine.longestSilence else {
            throw ValidationError("--for must be a duration up to 7d, like 30m or 2h")
        }
        if by.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--by must name who silences") }
        if why.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--why must say why") }
        // The rule first, as `ack` takes them: refused by the service as a site of over 16
        // characters (`out_of_range: field site`), which said nothing of the order.
        if site.contains("_") {
            throw ValidationError("'\(site)' is not a site code: the site comes first (urgentflow silence SITE [RULE] --for ... --by ... --why ...)")
        }
        if why.count > 1000 { throw ValidationError("--why must be at most 1000 characters (it has \(why.count))") }
        try service.validate()
    }

    func run() throws {
        let now = WallClock.now()
        let until = now + Duration.parse(duration)!
        let action = OperatorAction(id: "silence-cli-\(now.millis)-\(getpid())", at: now,
                                    kind: .silence(site: site, rule: rule, until: until, by: by, reason: why))
        let note = try service.send(action)
        let what = rule.map { "\($0) at \(site)" } ?? "every alert at \(site)"
        // In UK local time, as the dashboard says it (the UTC instant read an hour out in
        // summer), with the instant itself for a system configured in another zone.
        let local = LocalCalendar(identifier: "Europe/London").map { FlowEngine.localClock(until, $0) + " (" + RFC3339.format(until) + ")" }
        // The service says which silences in force this one replaced or ended: a site's silence
        // over a colleague's cut theirs short unsaid, and `--for 0s` with none in force said
        // one had ended (user test).
        if until > now {
            print("silenced \(what) until \(local ?? RFC3339.format(until))" + (note.map { "; it \($0)" } ?? ""))
        } else {
            print(note ?? "no silence of \(what) was in force: nothing ended")
        }
    }
}

/// The running service an operator command talks to: its TCP listener (the same path as feed
/// lines, so the action is journalled before it is answered and survives a crash).
struct ServiceOption: ParsableArguments {
    @Option(help: "The service's listener.")
    var to: String = "tcp://127.0.0.1:5514"

    @Option(help: "Shared token of the listener, if it has one.")
    var token: String?

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 10

    func validate() throws {
        if address == nil || address!.port == 0 { throw ValidationError("--to must be tcp://HOST:PORT") }
    }

    /// The listener's address, parsed as `run --listen` parses it.
    var address: TCPListenerConfiguration? { TCPListenerConfiguration(spec: to) }


    /// Sends one operator line; throws with the service's reason unless it answers `ok`.
    /// Returns what the service said after `ok N`, if anything (a silence it replaced).
    func send(_ action: OperatorAction) throws -> String? {
        let host = address!.host, port = UInt16(address!.port)
        var payload = ""
        if let token { payload += "AUTH \(token)\n" }
        payload += action.jsonLine + "\n"
        let answer = try exchange(host: host, port: port, payload: payload, expectLines: token == nil ? 1 : 2)
        // No answer is not a refusal: the line was sent, and a service slow to answer (paused,
        // or busy with a backlog) may still apply it. Said "refused", the manager took the alert
        // for unacknowledged, and it was acknowledged after all (the operators' user test).
        let unanswered = "no answer from \(to) within \(Self.seconds(timeout)): the service may still apply it; "
            + "look at the dashboard or `urgentflow recover --alerts` before sending it again"
        if token != nil, answer.first != "ok auth" {
            guard let first = answer.first else { throw CLIError(unanswered) }
            throw CLIError("the service refused the token: \(first)")
        }
        guard let last = answer.last, !last.isEmpty else { throw CLIError(unanswered) }
        guard last.hasPrefix("ok ") else {
            let reason = last.split(separator: " ", maxSplits: 2).dropFirst(2).first.map(String.init) ?? last
            let hint = reason.hasPrefix("auth_required") ? " (the service wants a token: --token)" : ""
            throw CLIError("refused: \(reason)\(hint)")
        }
        let note = last.split(separator: " ", maxSplits: 2).dropFirst(2).first.map(String.init)
        return note?.isEmpty == false ? note : nil
    }

    static func seconds(_ t: Double) -> String { t == t.rounded() ? "\(Int(t)) s" : "\(t) s" }

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
            let n = bytes.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
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
