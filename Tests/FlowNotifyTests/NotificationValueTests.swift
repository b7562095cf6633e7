import Foundation
import Testing
@testable import FlowCore
@testable import FlowNotify

/// The real rule engine and the notification policy, stepped together on the event clock as a
/// replay steps them (`NotifierFollower`): one acute site, its longest handover wait rule, an
/// ambulance that arrived at 10:00:25 and is not handed over (so the wait grows by a minute a
/// minute, in fractions: 45.583 minutes at 10:46), and a bed line at half past each minute to
/// move the clock: the engine's tick at 10:46 runs when the 10:46:30 line comes, and the policy
/// ticks at the line's instant, as `NotifierFollower` ticks it at the replay's clock.
final class HandoverWait {
    static let arrived = utc("2026-01-20T10:00:25Z")
    static let rule = "handover_longest_wait"

    let system: SystemConfig
    let engine: FlowEngine
    var policy: NotificationPolicy
    /// Every notification the policy made, in order.
    var sent: [AlertNotification] = []
    var transitions: [AlertTransition] = []
    private var line = 0

    init(ackExpiry: Duration? = nil, notify: NotificationConfig = NotificationConfig(escalation: EscalationPolicy(after: .hours(12)),
                                                                                      repeatInterval: nil)) {
        system = SystemConfig(
            name: "Test System", timeZone: "Europe/London",
            units: [UnitConfig(code: "AAA", name: "Alpha Hospital", kind: .acute, beds: 500)],
            leads: [LeadConfig(id: "ann", role: "Site manager", name: "Ann", contact: "+44 7700 900001", units: ["AAA"],
                               severities: [.warning, .critical])],
            rules: [.threshold(ThresholdRule(id: Self.rule, metric: .ambulanceLongestWaitMin, units: ["acute"], direction: .above,
                                             levels: ThresholdLevels(warning: 45, critical: 60, clear: 30, criticalClear: nil),
                                             raiseDelay: .zero, clearDelay: .minutes(30)))],
            ackExpiry: ackExpiry)
        engine = FlowEngine(config: system, mode: .replay)
        policy = NotificationPolicy(system: system, config: notify)
        feed("{\"feed\":\"ambulance\",\"id\":\"a1\",\"at\":\"\(RFC3339.format(Self.arrived))\",\"site\":\"AAA\",\"kind\":\"arrived\",\"incident\":\"i1\",\"category\":2}")
    }

    /// A line to the engine, its transitions to the policy, then the policy's tick at the clock.
    func feed(_ text: String) {
        line += 1
        _ = engine.ingest(text)
        let ts = engine.drainTransitions()
        transitions += ts
        for t in ts { sent += policy.handle(t) }
        if let now = engine.now { sent += policy.tick(now: now) }
    }

    /// Bed lines at half past each minute up to and including `until` (UTC, `HH:MM:SS`, on 20
    /// January 2026).
    func run(until hhmmss: String) {
        let end = utc("2026-01-20T\(hhmmss)Z")
        var t = (engine.now ?? Self.arrived).floored(to: .minutes(1)) + .seconds(90)
        while t <= end {
            feed("{\"feed\":\"bed\",\"id\":\"b\(line)\",\"at\":\"\(RFC3339.format(t))\",\"site\":\"AAA\",\"ga_core_open\":100,\"ga_core_occupied\":80}")
            t = t + .minutes(1)
        }
    }

    /// The alert as the dashboard shows it now.
    var shown: AlertSnapshot? { engine.rules.activeAlerts(model: engine.model).first { $0.rule == Self.rule } }

    func message(_ kind: NotificationKind) -> AlertNotification? { sent.first { $0.kind == kind } }
}

/// An acknowledgement's expiry is reckoned once, from the system's `acknowledgement_expiry`
/// (`SystemConfig.ackExpires`), for the alert state the dashboard shows and for the leads.
@Suite struct AckExpiryReckoningTests {
    @Test func theLeadIsToldAtTheInstantTheDashboardShowsTheAcknowledgementExpired() throws {
        // The system's expiry only: the notification section (built here, not loaded) has none
        // of its own, as a configuration has one reading of it.
        let w = HandoverWait(ackExpiry: .minutes(10))
        w.run(until: "10:46:30")
        #expect(w.message(.firing) != nil, "\(w.sent.map(\.kind))")
        let at = utc("2026-01-20T10:47:12Z")
        #expect(w.engine.acknowledge(rule: HandoverWait.rule, site: "AAA", by: "Ann", note: "HALO", at: at))
        let acknowledged = w.policy.acknowledge(rule: HandoverWait.rule, site: "AAA", by: "Ann", note: "HALO", at: at)
        #expect(acknowledged)
        w.run(until: "11:00:30")
        let shown = try #require(w.shown)
        #expect(shown.acknowledgedBy == nil && shown.expiredAckBy == "Ann")
        let expiredAt = try #require(shown.ackExpiredAt)
        #expect(expiredAt == at + .minutes(10))
        // Told at the first tick on or after that instant (10:57:30), and only then.
        let expired = w.sent.filter { $0.kind == .ackExpired }
        #expect(expired.map(\.at) == [utc("2026-01-20T10:57:30Z")], "\(w.sent.map { "\($0.kind) \(RFC3339.format($0.at))" })")
        #expect(w.policy.activeAlerts().first?.acknowledgement == nil)
    }
}
