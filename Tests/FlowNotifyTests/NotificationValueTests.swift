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
    /// The alert as the dashboard showed it when each message was made at a tick (by id).
    var shownWhenMade: [String: AlertSnapshot] = [:]
    var transitions: [AlertTransition] = []
    private var line = 0

    init(ackExpiry: Duration? = nil, notify: NotificationConfig = NotificationConfig(escalation: EscalationPolicy(after: .hours(12)),
                                                                                      repeatInterval: nil, flapping: FlappingSettings(enabled: false))) {
        system = SystemConfig(
            name: "Test System", timeZone: "Europe/London",
            units: [UnitConfig(code: "AAA", name: "Alpha Hospital", kind: .acute, beds: 500)],
            leads: [LeadConfig(id: "ann", role: "Site manager", name: "Ann", contact: "+44 7700 900001", units: ["AAA"],
                               severities: [.warning, .critical]),
                    LeadConfig(id: "dee", role: "Director on call", name: "Dee", contact: "+44 7700 900002", units: ["SYSTEM"],
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
        for t in ts { sent += policy.handle(t, current: engine.activeAlert) }
        guard let now = engine.now else { return }
        let made = policy.tick(now: now, current: engine.activeAlert)
        // Sent, or held for a lead's digest.
        for n in made + policy.held.values.flatMap(\.items) where shownWhenMade[n.id] == nil { shownWhenMade[n.id] = shown }
        sent += made
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

/// What a lead reads of the alert in a message is the alert as of the instant the message is
/// made, rounded as the dashboard says it: a `silence_ended`, `ack_expired`, `escalated` or
/// `repeat` said the value and sentence of the alert's last transition (the user test: an hour
/// old, and `45.583333333333336` on a pager).
@Suite struct NotificationValueTests {
    static func at(_ hhmmss: String) -> EventTime { utc("2026-01-20T\(hhmmss)Z") }

    @Test func eachMessageMadeAtATickSaysTheAlertAsTheDashboardShowsItThen() throws {
        let notify = NotificationConfig(escalation: EscalationPolicy(after: .minutes(30), criticalAfter: .minutes(15), finally: ["dee"]),
                                        repeatInterval: .minutes(20), flapping: FlappingSettings(enabled: false))
        let w = HandoverWait(notify: notify)
        w.run(until: "10:47:30")
        // Silenced for 3 minutes, then acknowledged until 10:55.
        w.policy.silence(Silence(id: "s1", site: "AAA", from: Self.at("10:47:40"), until: Self.at("10:50:00"), by: "Dee", reason: "call"))
        w.run(until: "10:50:45")
        let acknowledged = w.policy.acknowledge(rule: HandoverWait.rule, site: "AAA", by: "Ann", at: Self.at("10:50:50"),
                                                expires: Self.at("10:55:00"))
        #expect(acknowledged)
        w.run(until: "11:40:30")
        let said = w.sent.map { "\($0.kind.rawValue) \(RFC3339.format($0.at)) \($0.value.map { "\($0)" } ?? "nil") \($0.summary)" }
        #expect(w.sent.map(\.kind) == [.firing, .silenceEnded, .ackExpired, .severityChanged, .escalated, .repeat], "\(said)")

        // Made at a tick: the value and sentence the dashboard showed for the alert then.
        for n in w.sent where ![.firing, .severityChanged].contains(n.kind) {
            let shown = try #require(w.shownWhenMade[n.id], "\(n.kind)")
            #expect(n.value == shown.value.map(Format.rounded), "\(n.kind) at \(RFC3339.format(n.at))")
            #expect(n.summary == shown.summary, "\(n.kind) at \(RFC3339.format(n.at))")
        }
        // The wait at each instant (the ambulance arrived at 10:00:25), as the sentence says it.
        let expected: [(NotificationKind, String, Double)] = [
            (.silenceEnded, "10:50:30", 50.1), (.ackExpired, "10:55:30", 55.1), (.escalated, "11:16:30", 76.1), (.repeat, "11:36:30", 96.1),
        ]
        for (kind, time, value) in expected {
            let n = try #require(w.message(kind))
            #expect(n.at == Self.at(time), "\(kind)")
            #expect(n.value == value, "\(kind): \(n.value.map { "\($0)" } ?? "nil")")
            #expect(n.summary == "Alpha Hospital Longest wait \(Format.number(value)) min (\(n.severity.rawValue) at or above \(n.severity == .critical ? 60 : 45) min)",
                    "\(kind): \(n.summary)")
        }
    }

    @Test func aTransitionsMessageHasItsValueRoundedAndTheTransitionLogKeepsItsOwn() throws {
        let w = HandoverWait()
        w.run(until: "11:01:30")
        let firing = try #require(w.message(.firing))
        let worse = try #require(w.message(.severityChanged))
        #expect(firing.value == 45.6 && firing.summary == "Alpha Hospital Longest wait 45.6 min (warning at or above 45 min)", "\(firing)")
        #expect(worse.value == 60.6 && worse.summary == "Alpha Hospital Longest wait 60.6 min (critical at or above 60 min)", "\(worse)")
        // The JSON a pager gets.
        #expect(NotificationJSON.line(firing).contains("\"value\":45.6}"), "\(NotificationJSON.line(firing))")
        // The transitions themselves are as the rule engine made them (the alert log rounds to 2 decimals).
        let t = try #require(w.transitions.first { $0.state == .firing })
        #expect(t.value == 45.583333333333336 && t.jsonLine.contains("\"value\":45.58,"), "\(t.jsonLine)")
    }

    @Test func aReminderHeldForADigestSaysTheAlertAsOfWhenItWasMade() throws {
        // One message an hour to a lead: the reminder at 10:56:30 is held, and goes as a digest
        // two minutes after it. The severity change to critical at 11:01 goes out at once,
        // whatever the budget (an escalation to critical waited for the digest, the ops user
        // test).
        let notify = NotificationConfig(escalation: EscalationPolicy(after: .hours(12)), repeatInterval: .minutes(10),
                                        flapping: FlappingSettings(enabled: false),
                                        budget: LeadBudget(max: 1, window: .hours(1), digestAfter: .minutes(2)))
        let w = HandoverWait(notify: notify)
        w.run(until: "11:00:30")
        let digest = try #require(w.message(.digest), "\(w.sent.map(\.kind))")
        let items = digest.items ?? []
        #expect(items.map(\.kind) == [.repeat])
        let reminder = try #require(items.first)
        #expect(reminder.at == Self.at("10:56:30"))
        let shown = try #require(w.shownWhenMade[reminder.id])
        #expect(reminder.value == 56.1 && reminder.value == shown.value.map(Format.rounded), "\(reminder)")
        #expect(reminder.summary == "Alpha Hospital Longest wait 56.1 min (warning at or above 45 min)" && reminder.summary == shown.summary)
        w.run(until: "11:02:30")
        let worse = try #require(w.message(.severityChanged), "\(w.sent.map(\.kind))")
        #expect(worse.value == 60.6 && worse.severity == .critical && worse.at < Self.at("11:02:00"), "\(worse)")
    }
}
