import Foundation
import Testing
import FlowCore
@testable import FlowNotify
@testable import FlowLive

/// A notifier that fails while `down`.
final class SwitchedNotifier: Notifier, @unchecked Sendable {
    let name: String
    private let lock = NSLock()
    private var _down = true
    init(name: String) { self.name = name }
    var down: Bool {
        get { lock.withLock { _down } }
        set { lock.withLock { _down = newValue } }
    }
    func deliver(_ n: AlertNotification) throws {
        if down { throw NotifyIOError("connection refused") }
    }
}

/// A failing notifier on the live dashboard (ops user test): its `Notifier hook failing` alert
/// never showed in the alerts panel, as the picture was published again only at the next rule
/// tick or line (the hook failed for 56 seconds between two ticks), and the header said
/// `failing` for five minutes after the log said `notifier hook delivers again`.
@Suite(.serialized) struct NotifierFailingPublishTests {
    static func eventually(_ f: () -> Bool) -> Bool {
        for _ in 0..<500 { if f() { return true }; usleep(10_000) }
        return f()
    }

    @Test func theNotifierAlertIsPublishedWhenItStartsAndStopsFailing() throws {
        let dir = NSTemporaryDirectory() + "/notifier-publish-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = WarnedColumnTests.yaml + "\n    - { name: hook, kind: webhook, url: \"http://127.0.0.1:9/hook\" }\n  routes:\n    - notifier: hook\n"
        let system = try ConfigLoader.load(yaml: yaml, file: "hook.yaml")
        let notify = try NotifyConfigLoader.load(yaml: yaml, file: "hook.yaml", system: system)
        let hook = SwitchedNotifier(name: "hook")
        let service = try NotificationService(system: system, config: notify, stateDirectory: dir, mode: .live, notifiers: [hook],
                                              retry: RetryPolicy(initialBackoff: 0.01, maxBackoff: 0.02, failingAfter: 3))
        defer { service.close(timeout: 2) }
        let engine = FlowEngine(config: system, mode: .live)
        let slot = SnapshotSlot(engine.snapshot())
        let consumer = EngineConsumer(engine: engine, runsClock: false, journal: nil, alertLog: nil, slot: slot)
        consumer.notifier = service
        consumer.publishInterval = 0
        consumer.tick()   // the first picture: no alerts
        #expect(slot.read().0.alerts.isEmpty)

        let now = WallClock.now()
        service.handle([AlertTransition(at: now, rule: "ga_occupancy", site: "NDA", severity: .critical, state: .firing, value: 97,
                                        summary: "North Downs Acute G&A occupancy 97% (critical at or above 95%)", leadID: "nda-oncall", since: now)])
        #expect(Self.eventually { service.notifierStatus().first?.failing == true })
        // No line and no rule tick since: the consumer's tick publishes the notifier's alert.
        consumer.tick()
        #expect(slot.read().0.alerts.contains { $0.notifier == "hook" }, "\(slot.read().0.alerts.map(\.rule))")

        hook.down = false
        #expect(Self.eventually { service.notifierStatus().first?.failing == false })
        consumer.tick()
        #expect(!slot.read().0.alerts.contains { $0.notifier == "hook" }, "gone once it delivers again")
    }

    @Test func theStatusLineWarningIsSettledWhenTheNotifierDeliversAgain() {
        var s = NotifierStatus(name: "hook-\(UUID().uuidString.prefix(6))", pending: 1, consecutiveFailures: 3, lastError: "connection refused",
                               lastSuccess: nil, lastFailure: nil, sent: 0, gaveUp: 0, failing: true)
        Notifications.say(s)
        let failing = s.change
        #expect(Log.latestWarning(within: 300)?.text == failing)
        s.failing = false
        s.consecutiveFailures = 0
        Notifications.say(s)
        #expect(Log.latestWarning(within: 300)?.text != failing, "the status line no longer says it is failing")
    }
}
