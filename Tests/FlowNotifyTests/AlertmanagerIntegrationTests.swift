import Testing
import Foundation
@testable import FlowCore
@testable import FlowNotify
#if canImport(Glibc)
import Glibc
#endif

/// Where the Debian package `prometheus-alertmanager` puts the binary; `URGENTFLOW_ALERTMANAGER`
/// overrides it.
let alertmanagerBinary = ProcessInfo.processInfo.environment["URGENTFLOW_ALERTMANAGER"] ?? "/usr/bin/prometheus-alertmanager"

/// A real Alertmanager on 127.0.0.1 (free port), its storage in a temporary directory.
final class AlertmanagerProcess {
    let process = Process()
    let dir = TempDir()
    let port: Int
    var base: HTTPTarget { HTTPTarget(url: "http://127.0.0.1:\(port)")! }

    init() throws {
        port = try Self.freePort()
        let config = """
        route:
          receiver: blackhole
          group_wait: 1h
          group_interval: 1h
          repeat_interval: 24h
        receivers:
          - name: blackhole
        """
        try config.write(toFile: dir.file("alertmanager.yml"), atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: alertmanagerBinary)
        process.arguments = ["--config.file=\(dir.file("alertmanager.yml"))", "--storage.path=\(dir.file("data"))",
                             "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=", "--log.level=warn"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        FileManager.default.createFile(atPath: dir.file("stderr.log"), contents: nil)
        process.standardError = FileHandle(forWritingAtPath: dir.file("stderr.log"))
        try process.run()
    }

    /// Bounded wait for `/-/ready`.
    func waitReady(seconds: Double = 30) -> Bool {
        eventually(within: seconds) {
            guard process.isRunning else { return false }
            return (try? HTTPClient.request(.GET, base.with(path: "/-/ready"), timeout: 1).status) == 200
        }
    }

    var stderrText: String { (try? String(contentsOfFile: dir.file("stderr.log"), encoding: .utf8)) ?? "" }

    /// Active alerts (`GET /api/v2/alerts`) sent by urgentflow: labels of each.
    func alerts() throws -> [[String: String]] {
        let r = try HTTPClient.request(.GET, base.with(path: "/api/v2/alerts?filter=source%3D%22urgentflow%22"), timeout: 5)
        guard r.status == 200 else { throw NotifyIOError("GET /api/v2/alerts: HTTP \(r.status) \(r.text)") }
        guard let list = try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]] else { return [] }
        return list.compactMap { $0["labels"] as? [String: String] }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date(timeIntervalSinceNow: 10)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw NotifyIOError("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

@Suite(.serialized) struct AlertmanagerIntegrationTests {
    @Test(.timeLimit(.minutes(3)))
    func aScenarioThroughARealAlertmanagerIncludingTheResolve() throws {
        guard FileManager.default.isExecutableFile(atPath: alertmanagerBinary) else {
            Issue.record("""
                Alertmanager is not installed: \(alertmanagerBinary) is missing. Install the Debian package \
                (apt-get install -y prometheus-alertmanager) or set URGENTFLOW_ALERTMANAGER to the binary.
                """)
            return
        }
        let am = try AlertmanagerProcess()
        defer { am.stop() }
        try #require(am.waitReady(), "Alertmanager did not become ready on port \(am.port): \(am.stderrText)")

        // The handover-crisis scenario through the core, then through the notification service.
        let (system, notify) = try bundled()
        let text = try String(contentsOfFile: repoRoot.appendingPathComponent("Scenarios/handover-crisis.jsonl").path, encoding: .utf8)
        var replay = HeadlessReplay(config: system)
        var transitions: [AlertTransition] = []
        for line in text.split(separator: "\n") { transitions += replay.feed(String(line)) }
        transitions += replay.finish()
        // Split just before the first resolve of an alert that fired: check it is there, then gone.
        let firstResolve = try #require(transitions.firstIndex { t in
            t.state == .resolved && transitions.contains { $0.state == .firing && $0.rule == t.rule && $0.site == t.site && $0.at < t.at }
        })
        let resolvedKey = (transitions[firstResolve].rule, transitions[firstResolve].site)

        let state = TempDir()
        let notifier = AlertmanagerNotifier(name: "alertmanager", target: am.base, timeout: 5, validFor: 3600)
        let svc = try NotificationService(system: system, config: notify, stateDirectory: state.path, mode: .live, notifiers: [notifier],
                                          retry: RetryPolicy(initialBackoff: 0.05, maxBackoff: 0.5))
        defer { svc.close() }

        svc.handle(Array(transitions[..<firstResolve]))
        try #require(eventually(within: 30) { svc.outbox.pendingEntries().isEmpty }, "delivery: \(svc.notifierStatus())")
        let before = try am.alerts()
        #expect(before.contains { $0["alertname"] == resolvedKey.0 && $0["site"] == resolvedKey.1 },
                "\(resolvedKey) is active in Alertmanager before its resolve")
        for a in svc.activeAlerts() where a.lastNotifiedAt != nil {
            #expect(before.contains { $0["alertname"] == a.rule && $0["site"] == a.site && $0["severity"] == a.severity.rawValue && $0["lead"] == a.leadID },
                    "\(a.rule) at \(a.site) (\(a.severity), \(a.leadID ?? "-")) is in Alertmanager")
        }

        svc.handle(Array(transitions[firstResolve...]))
        // A day later: flapping settles, held digests go out.
        svc.tick(now: transitions.last!.at + .hours(24))
        try #require(eventually(within: 30) { svc.outbox.pendingEntries().isEmpty }, "delivery: \(svc.notifierStatus())")
        let after = try am.alerts()
        let expected = Set(svc.activeAlerts().filter { $0.lastNotifiedAt != nil }.map { "\($0.rule)|\($0.site)|\($0.severity.rawValue)|\($0.leadID ?? "")" })
        let actual = Set(after.map { "\($0["alertname"]!)|\($0["site"]!)|\($0["severity"]!)|\($0["lead"] ?? "")" })
        #expect(actual == expected, "Alertmanager's active alerts are the ones still firing, with their last severity and lead")
        #expect(after.count == actual.count, "no stale label sets left behind by escalation or severity changes")
        if !svc.activeAlerts().contains(where: { $0.rule == resolvedKey.0 && $0.site == resolvedKey.1 }) {
            #expect(!after.contains { $0["alertname"] == resolvedKey.0 && $0["site"] == resolvedKey.1 }, "\(resolvedKey) resolved in Alertmanager")
        }
        let log = try String(contentsOfFile: state.file("notifications.jsonl"), encoding: .utf8)
        #expect(log.contains("\"kind\":\"resolved\""), "resolves were sent")
        #expect(svc.notifierStatus()[0].sent > 0 && !svc.notifierStatus()[0].failing)
    }
}
