import Foundation
import Testing
import FlowCore
import FlowNotify
@testable import FlowLive

/// With notifications, the dashboard's Warned column says who was actually sent a message of
/// the alert, or why nobody was. It fell back to the core's lead (the first in `leads:` covering
/// the site): an alert that fired at a silenced site showed `Bill Dunn`, and flapping alerts
/// their site's lead, though no message of those episodes went to anyone (ops user test).
@Suite struct WarnedColumnTests {
    static let yaml = """
        system:
          name: Warned Test System
          timezone: Europe/London
          tick: 60s
        units:
          - { code: NDA, name: North Downs Acute, kind: acute, beds: 500, weight: 0.5 }
          - { code: EWH, name: Epsom West Hospital, kind: acute, beds: 400, weight: 0.5 }
        leads:
          - { id: nda-oncall, role: Site on-call manager, name: Ann Carter, contact: "+44 7700 900201", units: [NDA] }
          - { id: ewh-oncall, role: Site on-call manager, name: Bill Dunn, contact: "+44 7700 900202", units: [EWH] }
        rules:
          - id: ga_occupancy
            kind: threshold
            metric: ga_occupancy_pct
            units: [acute]
            direction: above
            warning: 92
            critical: 95
            clear: 90
            for: 0m
            clear_for: 0m
        notifications:
          flapping: { window: 1h, changes: 3, quiet: 1h }
          notifiers:
            - { name: notification-log, kind: log, path: notifications.jsonl }
        """

    /// Bed lines at both sites every minute from 10:00 (Tuesday 20 January 2026, day: the core
    /// leads are on): EWH full from 10:02, silenced at 10:01 before it fires; NDA full and back
    /// every other minute (fired, resolved, fired: unstable; resolved, fired again, held back).
    static func run(_ dir: String) throws -> (DashboardSnapshot, NotificationService) {
        let system = try ConfigLoader.load(yaml: yaml, file: "warned.yaml")
        let notify = try NotifyConfigLoader.load(yaml: yaml, file: "warned.yaml", system: system)
        let service = try NotificationService(system: system, config: notify, stateDirectory: dir, mode: .replay)
        var replay = HeadlessReplay(config: system)
        var follower = NotifierFollower(service, engine: replay.engine)
        let t0 = RFC3339.parse("2026-01-20T10:00:00Z")!
        func bed(_ site: String, _ occupied: Int, _ m: Int64) {
            let line = "{\"feed\":\"bed\",\"id\":\"\(site)-\(m)\",\"at\":\"\(RFC3339.format(t0 + .minutes(m)))\",\"site\":\"\(site)\",\"ga_core_open\":100,\"ga_core_occupied\":\(occupied)}"
            follower.follow(replay.feed(line), now: replay.engine.now)
        }
        for m in Int64(0)...6 {
            if m == 1 {
                let s = Silence(id: "s1", site: "EWH", rule: nil, from: t0 + .minutes(1), until: t0 + .hours(2), by: "Gus Ives", reason: "diverting")
                replay.engine.silence(s)
                service.silence(s)
            }
            bed("EWH", m >= 2 ? 97 : 80, m)
            bed("NDA", [80, 97, 80, 97, 80, 97, 97][Int(m)], m)
        }
        var snap = replay.engine.snapshot()
        Notifications.overlay(&snap, service)
        return (snap, service)
    }

    @Test func nobodyToldIsSaidAsNotSentAndWhy() throws {
        let dir = NSTemporaryDirectory() + "/warned-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (snap, service) = try Self.run(dir)
        defer { service.close(timeout: 2) }
        let ewh = try #require(snap.alerts.first { $0.site == "EWH" })
        #expect(ewh.state == .firing && ewh.silencedUntil != nil)
        #expect(ewh.leadName == nil && ewh.notWarned == .silenced, "\(ewh)")
        let nda = try #require(snap.alerts.first { $0.site == "NDA" })
        #expect(nda.state == .firing)
        #expect(nda.leadName == nil && nda.notWarned == .unstable, "\(nda)")
        // No message of either episode in the notification log.
        let log = try String(contentsOfFile: dir + "/notifications.jsonl", encoding: .utf8)
        let sent = log.split(separator: "\n").filter { $0.hasPrefix("{\"type\":\"notification\"") }
        #expect(!sent.contains { $0.contains("\"site\":\"EWH\"") })
        #expect(!sent.contains { $0.contains("\"since\":\"\(RFC3339.format(nda.since))\"") }, "\(sent)")
    }

    @Test func anAlertWhoseLeadWasToldNamesThem() throws {
        let dir = NSTemporaryDirectory() + "/warned-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let system = try ConfigLoader.load(yaml: Self.yaml, file: "warned.yaml")
        let notify = try NotifyConfigLoader.load(yaml: Self.yaml, file: "warned.yaml", system: system)
        let service = try NotificationService(system: system, config: notify, stateDirectory: dir, mode: .replay)
        defer { service.close(timeout: 2) }
        var replay = HeadlessReplay(config: system)
        var follower = NotifierFollower(service, engine: replay.engine)
        for m in 0...3 {
            follower.follow(replay.feed("{\"feed\":\"bed\",\"id\":\"b\(m)\",\"at\":\"2026-01-20T10:0\(m):00Z\",\"site\":\"NDA\",\"ga_core_open\":100,\"ga_core_occupied\":97}"),
                            now: replay.engine.now)
        }
        var snap = replay.engine.snapshot()
        Notifications.overlay(&snap, service)
        let nda = try #require(snap.alerts.first { $0.site == "NDA" })
        #expect(nda.leadName == "Ann Carter" && nda.notWarned == nil, "\(nda)")
    }
}
