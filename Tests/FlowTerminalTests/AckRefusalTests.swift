import Foundation
import Testing
import FlowCore
@testable import FlowTerminal

/// An acknowledgement or silence urgentflow would refuse is refused in the prompt, with why.
@Suite struct RefusedAckTests {
    static func type(_ c: DashboardController, _ s: String) { for ch in s { c.handle(.char(ch)) } }

    /// A dashboard on the fixture with the acknowledge prompt open on the first alert and `who`
    /// typed and entered.
    static func acknowledging(as who: String) -> (FakeDriver, DashboardController) {
        let d = FakeDriver()
        let c = DashboardController(driver: d)
        c.handle(.tab)
        c.handle(.char("a"))
        type(c, who)
        c.handle(.enter)
        return (d, c)
    }

    @Test("an NHS number in the note is refused in the prompt with why, nothing is sent, and the prompt stays to correct it")
    func identifiableNoteIsRefusedBeforeSending() {
        let (d, c) = Self.acknowledging(as: "Chris Adeyemi")
        Self.type(c, "9434765919")
        c.handle(.enter)
        #expect(d.commands.isEmpty, "not sent")
        #expect(c.state.ack?.field == .note)
        let why = "Not acknowledged: the note looks patient-identifiable (value is shaped like an NHS number)"
        #expect(c.state.message?.hasPrefix(why) == true, "\(c.state.message ?? "nil")")
        #expect(c.state.ack?.problem?.hasPrefix(why) == true)
        let text = render(c, 120, 36).text
        #expect(text.contains("Not acknowledged: the note looks patient-identifiable"))
        // Corrected, it goes.
        for _ in 0..<10 { c.handle(.backspace) }
        #expect(c.state.ack?.problem == nil)
        Self.type(c, "patient moved to ward 7")
        c.handle(.enter)
        #expect(c.state.ack == nil)
        #expect(d.commands == [.acknowledge(rule: "ga_occupancy_high", site: "RWH", by: "Chris Adeyemi", note: "patient moved to ward 7")])
    }

    @Test("the prompt says the whole refusal on as many lines as it takes, at 80x24 as at 200x50")
    func refusalIsShownWhole() {
        for (w, h) in [(80, 24), (200, 50)] {
            let (_, c) = Self.acknowledging(as: "Chris Adeyemi")
            Self.type(c, "Mrs Smith to ward 7")
            c.handle(.enter)
            let problem = c.state.ack?.problem ?? ""
            #expect(problem.hasSuffix("write the role or a pseudonymous key, not the name)"), "\(problem)")
            // Every word of it on the screen, in order, in the box's lines under the note.
            let text = render(c, w, h).text
            let lines = text.split(separator: "\n").map(String.init)
            guard let first = lines.firstIndex(where: { $0.contains("Not acknowledged: the note") }),
                  let start = lines[first].range(of: "Not acknowledged") else {
                Issue.record("no refusal at \(w)x\(h):\n\(text)"); continue
            }
            // The box's inside, 68 columns from where the refusal starts (every character on
            // these lines is one column wide).
            let column = lines[first].distance(from: lines[first].startIndex, to: start.lowerBound)
            let shown = lines[first..<min(lines.count, first + 4)].map { line -> String in
                let chars = Array(line)
                guard chars.count > column else { return "" }
                return String(chars[column..<min(chars.count, column + 68)]).trimmingCharacters(in: .whitespaces)
            }
            let joined = shown.filter { !$0.isEmpty && !$0.hasPrefix("Enter next") }.joined(separator: " ")
            #expect(joined.hasPrefix(problem), "\(w)x\(h): \(joined)")
        }
    }

    @Test("the prompt's wrapping breaks at spaces, keeps every word, and gives the rest to its last line")
    func wrapKeepsEveryWord() {
        let text = "Not acknowledged: the note looks patient-identifiable (value is shaped like an NHS number)"
        let lines = AckPromptWidget.wrap(text, width: 30, lines: 4)
        #expect(lines.joined(separator: " ") == text)
        #expect(lines.allSatisfy { $0.count <= 30 })
        #expect(lines.count == 4)
        let two = AckPromptWidget.wrap(text, width: 30, lines: 2)
        #expect(two.count == 2 && two[0].count <= 30 && two.joined(separator: " ") == text)
        #expect(AckPromptWidget.wrap("short", width: 30, lines: 4) == ["short"])
        #expect(AckPromptWidget.wrap(text, width: 30, lines: 1) == [text])
    }

    /// A pending alert has no lead told yet, and the engine refuses to acknowledge it: the
    /// dashboard says so instead of opening the prompt (the row showed `✔ ack`, and the alert
    /// then fired and escalated). Silencing it is allowed.
    @Test("a pending alert cannot be acknowledged from the dashboard; it can be silenced")
    func aPendingAlertIsNotAcknowledged() {
        let d = FakeDriver(Fixtures.snapshot(extraAlerts: 1))
        let c = DashboardController(driver: d)
        c.handle(.char("j")); c.handle(.char("j"))   // Princess Alexandra: its one alert is pending
        c.handle(.char("a"))
        #expect(c.state.ack == nil)
        #expect(c.state.message == "extra_0 at RQW is pending: nothing to acknowledge until it fires (s silences it)", "\(c.state.message ?? "nil")")
        c.handle(.char("s"))
        #expect(c.state.ack?.purpose == .silence)
        #expect(c.state.ack?.alert == AlertID(rule: "extra_0", site: "RQW"))
    }

    @Test("an NHS number as the name or as a silence's reason is refused too")
    func identifiableNameOrReasonIsRefused() {
        let (d, c) = Self.acknowledging(as: "9434765919")
        #expect(c.state.ack?.field == .who)
        #expect(c.state.message?.hasPrefix("Not acknowledged: the name looks patient-identifiable") == true)
        c.handle(.escape)
        c.handle(.char("s"))
        Self.type(c, "Sam Reid")
        c.handle(.enter); c.handle(.enter)
        Self.type(c, "9434765919")
        c.handle(.enter)
        #expect(c.state.ack?.field == .note)
        #expect(c.state.message?.hasPrefix("Not silenced: the reason looks patient-identifiable") == true)
        #expect(d.commands.isEmpty)
    }

    @Test("the service's later answer to an acknowledgement replaces its waiting message, even while paused")
    func lateAnswerReachesTheStatusLine() {
        let d = FakeDriver(Fixtures.snapshot(replay: nil))
        d.reply = "Acknowledgement of ga_occupancy_high at RWH sent; waiting for the service to confirm it"
        let c = DashboardController(driver: d)
        c.handle(.tab)
        c.handle(.char("a"))
        Self.type(c, "Jo Bloggs")
        c.handle(.enter); c.handle(.enter)
        #expect(c.state.message == d.reply)
        #expect(c.tick() == false && c.state.message == d.reply, "nothing new yet")
        d.late = ["Not acknowledged: no active alert ga_occupancy_high at RWH (it may have just cleared)"]
        c.handle(.char(" ")) // paused
        #expect(c.tick() == true, "redrawn for the answer")
        #expect(c.state.message == "Not acknowledged: no active alert ga_occupancy_high at RWH (it may have just cleared)")
        #expect(render(c, 120, 36).text.contains("Not acknowledged: no active alert"))
    }
}
