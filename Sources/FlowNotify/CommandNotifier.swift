import Foundation

/// Runs a command per notification (how a site wires e-mail, SMS or a pager), with the
/// notification JSON on stdin and a few environment variables:
/// `URGENTFLOW_NOTIFICATION_ID` (the idempotency key), `URGENTFLOW_KIND`, `URGENTFLOW_SEVERITY`,
/// `URGENTFLOW_SITE`, `URGENTFLOW_LEAD_ID`, `URGENTFLOW_LEAD_CONTACT`.
/// Exit status 0 is success. A command still running after `timeout` seconds is sent SIGTERM,
/// then SIGKILL a second later, and the delivery fails (to be retried).
public final class CommandNotifier: Notifier, @unchecked Sendable {
    public let name: String
    public let argv: [String]
    public let timeout: Double
    /// The process of the latest delivery, while anything holds it (tests: it is let go).
    var lastProcess: Process? { lock.withLock { _lastProcess } }
    private weak var _lastProcess: Process?
    private let lock = NSLock()

    public init(name: String, argv: [String], timeout: Double) {
        self.name = name
        self.argv = argv
        self.timeout = timeout
    }

    public func deliver(_ n: AlertNotification) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env["URGENTFLOW_NOTIFICATION_ID"] = n.id
        env["URGENTFLOW_KIND"] = n.kind.rawValue
        env["URGENTFLOW_SEVERITY"] = n.severity.rawValue
        env["URGENTFLOW_SITE"] = n.site
        env["URGENTFLOW_LEAD_ID"] = n.lead?.id ?? ""
        env["URGENTFLOW_LEAD_CONTACT"] = n.lead?.contact ?? ""
        p.environment = env
        lock.withLock { _lastProcess = p }
        let stdin = Pipe()
        let stderr = Pipe()
        p.standardInput = stdin
        p.standardOutput = FileHandle.nullDevice
        p.standardError = stderr
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do { try p.run() } catch {
            // In words: Foundation's error read `Error Domain=NSCocoaErrorDomain Code=260 ...`.
            throw NotifyIOError("\(name): cannot run \(argv[0]): \(Self.whyNotRunnable(argv[0]) ?? "\(error)")")
        }
        // Write stdin off this thread: a command that never reads must not block us past the timeout.
        let body = Data(try NotificationJSON.encode(n) + [10])
        let writer = stdin.fileHandleForWriting
        DispatchQueue.global().async {
            signal(SIGPIPE, SIG_IGN)
            try? writer.write(contentsOf: body)
            try? writer.close()
        }
        // Drain stderr (bounded) so a chatty command cannot fill the pipe and stall.
        let errBox = ErrBox()
        let reader = stderr.fileHandleForReading
        let readDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let data = (try? reader.readToEnd()) ?? nil
            try? reader.close()
            errBox.set(data.map { String(decoding: $0.prefix(500), as: UTF8.self) } ?? "")
            readDone.signal()
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            if done.wait(timeout: .now() + 1) == .timedOut {
                kill(p.processIdentifier, SIGKILL)
                if done.wait(timeout: .now() + 5) == .success { p.waitUntilExit() }
            } else {
                p.waitUntilExit()
            }
            throw NotifyIOError("\(name): \(argv[0]) timed out after \(timeout)s and was killed")
        }
        // Foundation (swift-corelibs) lets go of a process it ran only once `waitUntilExit` has
        // seen it end (it returns at once: the termination handler has run). Without it, every
        // run kept its `Process`, with its environment and its stderr pipe, open: a file
        // descriptor and about 7 KB a delivery, so a service paging for a winter ran out of
        // descriptors (at the usual limit of 1,024, after about a thousand pages: `cannot run
        // ...: Too many open files`, and then the webhooks and the journal failed too).
        p.waitUntilExit()
        if p.terminationReason != .exit || p.terminationStatus != 0 {
            _ = readDone.wait(timeout: .now() + 1)
            let msg = errBox.get().trimmingCharacters(in: .whitespacesAndNewlines)
            throw NotifyIOError("\(name): \(argv[0]) exited with status \(p.terminationStatus)\(msg.isEmpty ? "" : ": " + msg)")
        }
    }
}

final class ErrBox: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func set(_ s: String) { lock.withLock { text = s } }
    func get() -> String { lock.withLock { text } }
}

extension CommandNotifier {
    /// Why `program` cannot be run, in words (no such file, not executable, a folder), or nil
    /// if it can be. A program named without a `/` is looked for on `PATH`.
    public static func whyNotRunnable(_ program: String) -> String? {
        let candidates: [String]
        if program.contains("/") {
            candidates = [program]
        } else {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            candidates = path.split(separator: ":").map { "\($0)/\(program)" }
        }
        var why = "no such file"
        for c in candidates {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: c, isDirectory: &isDir) else { continue }
            if isDir.boolValue { why = "it is a folder"; continue }
            if access(c, X_OK) == 0 { return nil }
            why = "not executable (chmod +x)"
        }
        return why + (program.contains("/") ? "" : " on PATH")
    }
}

extension NotificationConfig {
    /// The command notifiers whose program cannot run on this machine, and why
    /// (`CommandNotifier.whyNotRunnable`): said by `check` and at the start of `run`, where a
    /// missing pager command was found at the first critical page.
    public var unrunnableCommands: [(notifier: String, program: String, why: String)] {
        notifiers.compactMap { n in
            guard case .command(let argv, _) = n.kind, let program = argv.first,
                  let why = CommandNotifier.whyNotRunnable(program) else { return nil }
            return (n.name, program, why)
        }
    }
}
