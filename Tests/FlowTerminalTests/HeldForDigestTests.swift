import Testing
import FlowCore
@testable import FlowTerminal

/// The alerts panel's Warned column while the alert's message waits in its lead's digest (the
/// lead's budget of messages is spent): that lead has not been told, and the row said their name
/// as if they had. It says `held` and when the digest goes, until it has gone.
@Suite struct HeldForDigestTests {
    /// The drawn row of the Lister occupancy alert (the alerts panel's, not the site grid's).
    func row(_ s: DashboardSnapshot, width: Int) -> String {
        let text = render(DashboardController(driver: FakeDriver(s)), width, 40).text
        return text.split(separator: "\n").first { $0.contains("97.3%") && $0.contains("not acked") }.map(String.init) ?? text
    }

    func held(told: String?) -> DashboardSnapshot {
        var s = Fixtures.snapshot(replay: nil)
        let i = s.alerts.firstIndex { $0.rule == "ga_occupancy_high" }!
        s.alerts[i].leadID = "system-director"
        s.alerts[i].leadName = "Morgan Lee"
        // Held from 08:14:20, digest 15 minutes on: the 08:30 tick sends it.
        s.alerts[i].heldForDigestUntil = Fixtures.t0 + .minutes(14) + .seconds(20)
        s.alerts[i].toldName = told
        return s
    }

    @Test func aLeadNotYetToldIsNotShownAsWarned() {
        let s = held(told: nil)
        let wide = row(s, width: 200)
        #expect(wide.contains("held (digest 08:30)") && !wide.contains("Morgan Lee"), "\(wide)")
        let usual = row(s, width: 120)
        #expect(usual.contains("held to 08:30") && !usual.contains("Morgan"), "\(usual)")
        let narrow = row(s, width: 90)
        #expect(narrow.contains("held 08:30") && !narrow.contains("Morgan"), "\(narrow)")
        let plain = PlainRenderer.alertLine(s.alerts.first { $0.rule == "ga_occupancy_high" }!, siteName: "Lister Hospital", now: s.now)
        #expect(plain.contains("| warned nobody yet; held for Morgan Lee's digest at 08:30 |"), "\(plain)")
    }

    @Test func anEscalationHeldSaysTheNextLeadIsNotToldAndThePlainLineWhoWas() {
        let s = held(told: "Chris Adeyemi")
        #expect(row(s, width: 120).contains("held to 08:30"))
        let plain = PlainRenderer.alertLine(s.alerts.first { $0.rule == "ga_occupancy_high" }!, siteName: "Lister Hospital", now: s.now)
        #expect(plain.contains("| warned Chris Adeyemi; held for Morgan Lee's digest at 08:30 |"), "\(plain)")
    }

    @Test func aLeadAlreadyToldWhoseReminderIsHeldWasWarned() {
        let s = held(told: "Morgan Lee")
        let r = row(s, width: 120)
        #expect(r.contains("Morgan Lee") && !r.contains("held"), "\(r)")
    }

    @Test func onceTheDigestHasGoneTheLeadIsNamed() {
        var s = held(told: "Morgan Lee")
        let i = s.alerts.firstIndex { $0.rule == "ga_occupancy_high" }!
        s.alerts[i].heldForDigestUntil = nil
        #expect(row(s, width: 120).contains("Morgan Lee"))
        let plain = PlainRenderer.alertLine(s.alerts[i], siteName: "Lister Hospital", now: s.now)
        #expect(plain.contains("| warned Morgan Lee |"), "\(plain)")
    }
}

/// With notifications, an alert nobody was sent a message of says so in the Warned column, and
/// why, where it named the core's lead as warned (ops user test: `Bill Dunn  silenced 1h48 by
/// Gus Ives`, nothing sent to anyone).
@Suite struct NotWarnedTests {
    func snapshot(_ why: NotWarned) -> DashboardSnapshot {
        var s = Fixtures.snapshot(replay: nil)
        let i = s.alerts.firstIndex { $0.rule == "ga_occupancy_high" }!
        s.alerts[i].leadID = nil
        s.alerts[i].leadName = nil
        s.alerts[i].notWarned = why
        return s
    }

    func row(_ s: DashboardSnapshot, width: Int) -> String {
        let text = render(DashboardController(driver: FakeDriver(s)), width, 40).text
        return text.split(separator: "\n").first { $0.contains("97.3%") && $0.contains("acked") }.map(String.init) ?? text
    }

    @Test("the Warned column says why nobody was told, fitting its width", arguments: [(200, "not sent: silenced"), (120, "none: silenced"), (90, "silenced")])
    func silenced(width: Int, text: String) {
        let r = row(snapshot(.silenced), width: width)
        #expect(r.contains(" \(text) "), "\(r)")
        #expect(!r.contains("nobody"), "\(r)")
    }

    @Test func unstableAndNobodyYet() {
        #expect(row(snapshot(.unstable), width: 200).contains(" not sent: unstable "))
        #expect(row(snapshot(.notYet), width: 90).contains(" nobody yet "))
        let s = snapshot(.unstable)
        let plain = PlainRenderer.alertLine(s.alerts.first { $0.rule == "ga_occupancy_high" }!, siteName: "Lister Hospital", now: s.now)
        #expect(plain.contains("| warned nobody (not sent: unstable) |"), "\(plain)")
    }
}
