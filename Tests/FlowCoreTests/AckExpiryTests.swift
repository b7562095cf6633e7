import Testing
import Foundation
@testable import FlowCore

/// The alert state shows an acknowledgement by the notification policy's rules: it ends when
/// it expires (`notifications.acknowledgement_expiry`, or its own `expires`) and when the alert
/// gets worse. The core kept it until the alert resolved: the dashboard and `recover --alerts`
/// showed "✔ ack Priya Shah" on a critical alert that was escalating, and 4h20 after it was
/// given where the expiry is 4h, while the leads were told it was not acknowledged.
@Suite struct AckExpiryTests {
    func occupancy(_ r: inout HeadlessReplay, _ occupied: Int, from: Int64, to: Int64) {
        var m = from
        while m <= to { _ = r.feed(bedLine("AAA", at(m), occupied: occupied)); m += 10 }
    }

    func alert(_ r: HeadlessReplay) -> AlertSnapshot? {
        r.engine.snapshot(historyPoints: 1).alerts.first { $0.rule == "occ" && $0.site == "AAA" }
    }

    @Test func theConfiguredExpiryEndsTheAcknowledgementShown() {
        var config = testConfig(rules: [occupancyRule(for: .zero)])
        config.ackExpiry = .hours(4)
        var r = HeadlessReplay(config: config)
        occupancy(&r, 93, from: 0, to: 10)
        #expect(r.engine.acknowledge(rule: "occ", site: "AAA", by: "Priya Shah", note: "HALO in ED", at: at(10)))
        occupancy(&r, 93, from: 20, to: 240)
        let before = alert(r)
        #expect(before?.acknowledgedBy == "Priya Shah" && before?.ackNote == "HALO in ED")
        #expect(before?.ackExpires == at(250) && before?.expiredAckBy == nil)
        occupancy(&r, 93, from: 250, to: 260)
        let after = alert(r)
        #expect(after?.state == .firing)
        #expect(after?.acknowledgedBy == nil && after?.acknowledgedAt == nil && after?.ackNote == nil,
                "expired at 4h: not acknowledged (\(after?.acknowledgedBy ?? "nobody"))")
        #expect(after?.expiredAckBy == "Priya Shah" && after?.ackExpiredAt == at(250))
    }

    @Test func anExplicitExpiryEndsItToo() {
        let config = testConfig(rules: [occupancyRule(for: .zero)])   // no configured expiry
        var r = HeadlessReplay(config: config)
        occupancy(&r, 93, from: 0, to: 10)
        #expect(r.engine.acknowledge(rule: "occ", site: "AAA", by: "Ann", note: nil, at: at(10), expires: at(30)))
        occupancy(&r, 93, from: 20, to: 20)
        #expect(alert(r)?.acknowledgedBy == "Ann")
        occupancy(&r, 93, from: 30, to: 40)
        #expect(alert(r)?.acknowledgedBy == nil && alert(r)?.expiredAckBy == "Ann")
    }

    @Test func withoutAnExpiryItLastsUntilTheAlertResolves() {
        let config = testConfig(rules: [occupancyRule(for: .zero)])
        var r = HeadlessReplay(config: config)
        occupancy(&r, 93, from: 0, to: 10)
        #expect(r.engine.acknowledge(rule: "occ", site: "AAA", by: "Ann", note: nil, at: at(10)))
        occupancy(&r, 93, from: 20, to: 24 * 60)
        #expect(alert(r)?.acknowledgedBy == "Ann" && alert(r)?.ackExpires == nil)
    }

    @Test func worseningClearsTheAcknowledgementSteppingDownKeepsIt() {
        var config = testConfig(rules: [occupancyRule(for: .zero, clearFor: .zero)])
        config.ackExpiry = .hours(4)
        var r = HeadlessReplay(config: config)
        occupancy(&r, 93, from: 0, to: 10)
        #expect(r.engine.acknowledge(rule: "occ", site: "AAA", by: "Priya Shah", note: nil, at: at(10)))
        var worse: [AlertTransition] = []
        for m in stride(from: Int64(20), through: 30, by: 10) { worse += r.feed(bedLine("AAA", at(m), occupied: 97)) }
        #expect(worse.contains { $0.state == .severityChanged && $0.severity == .critical })
        let critical = alert(r)
        #expect(critical?.severity == .critical)
        #expect(critical?.acknowledgedBy == nil, "worse: not acknowledged (\(critical?.acknowledgedBy ?? "nobody"))")
        #expect(critical?.expiredAckBy == nil, "cleared by worsening, not expired")
        // Acknowledged again at critical; a step down to warning keeps it.
        #expect(r.engine.acknowledge(rule: "occ", site: "AAA", by: "Dee", note: nil, at: at(30)))
        occupancy(&r, 93, from: 40, to: 60)
        #expect(alert(r)?.severity == .warning)
        #expect(alert(r)?.acknowledgedBy == "Dee")
    }

    @Test func theExpiryIsReadFromTheNotificationsSection() throws {
        let yaml = { (expiry: String) in """
            system: {name: T}
            units: [{code: AAA, name: Alpha, kind: acute}]
            notifications:
              acknowledgement_expiry: \(expiry)
            """ }
        #expect(try ConfigLoader.load(yaml: yaml("90m"), file: "t.yaml").ackExpiry == .minutes(90))
        #expect(try ConfigLoader.load(yaml: yaml("never"), file: "t.yaml").ackExpiry == nil)
        #expect(try ConfigLoader.load(yaml: "system: {name: T}\nunits: [{code: AAA, name: Alpha, kind: acute}]\n", file: "t.yaml").ackExpiry == nil)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml("soon"), file: "t.yaml") }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Scenarios/herts-west-essex.yaml"), encoding: .utf8)
        #expect(try ConfigLoader.load(yaml: text, file: "herts-west-essex.yaml").ackExpiry == .hours(4))
    }

    @Test func anAcknowledgementsOwnExpiryWinsElseTheSystemsFromWhenItWasGiven() {
        var config = testConfig()
        #expect(config.ackExpires(givenAt: at(10), expires: nil) == nil, "no expiry configured: until it resolves")
        #expect(config.ackExpires(givenAt: at(10), expires: at(25)) == at(25))
        config.ackExpiry = .hours(4)
        #expect(config.ackExpires(givenAt: at(10), expires: nil) == at(250))
        #expect(config.ackExpires(givenAt: at(10), expires: at(25)) == at(25))
    }
}
