import FlowCore
import FlowLive
import FlowIngest
import FlowTerminal
import Foundation

/// Connects the live engine to the dashboard. The engine belongs to the hub's consumer thread:
/// this driver (on the UI thread) only reads the snapshots the consumer publishes (at most every
/// 250 ms, into a lock-protected slot) and hands operator actions to the hub.
final class LiveDriver: DashboardDriver {
    /// The source name of lines the dashboard submits (acknowledgements).
    static let operatorSource = EngineConsumer.operatorSource

    /// How long the service's latest warning stays on the status line after it was last said
    /// (the whole text is in the log file the dashboard diverts stderr to).
    static let warningShownFor = 300.0

    private let hub: IngestHub
    private let slot: SnapshotSlot
    private let acks: AckResults
    private let calendar: LocalCalendar
    private var lastVersion = -1
    private var lastSecond: Int64 = -1
    private var sequence = 0
    /// Ingest goes on while paused; only the view freezes (the controller holds the frame).
    private var paused = false
    /// Operator actions submitted whose answer did not come within `perform`'s wait (the
    /// journal was slow, or held): their answer is said when it comes (`lateMessage`).
    private var unanswered: [String] = []

    init(hub: IngestHub, slot: SnapshotSlot, acks: AckResults, calendar: LocalCalendar) {
        self.hub = hub
        self.slot = slot
        self.acks = acks
        self.calendar = calendar
    }

    func advance() -> Bool {
        let (_, v) = slot.read()
        let second = WallClock.now().millis / 1000
        defer { lastVersion = v; lastSecond = second }
        return v != lastVersion || second != lastSecond
    }

    /// The latest published picture, on the wall clock (the header clock and feed ages move
    /// every second even when no message arrives; values are those of the last rule tick or
    /// message).
    func snapshot() -> DashboardSnapshot {
        var (s, _) = slot.read()
        let now = WallClock.now()
        if now > s.now {
            s.now = now
            s.localClock = FlowEngine.localClock(now, calendar)
            for i in s.feeds.indices { s.feeds[i].age = s.feeds[i].lastMessage.map { now - $0 } }
        }
        s.replay = nil
        if let w = Log.latestWarning(within: LiveDriver.warningShownFor) {
            s.serviceWarning = w.text + (w.count > 1 ? " (\(w.count) times)" : "")
        }
        return s
    }

    func perform(_ command: DriverCommand) -> String? {
        switch command {
        case .setPaused(let p):
            paused = p
            return p ? "view paused; ingest continues" : nil
        case .faster, .slower, .stepEvent, .nextAlertTransition, .jump, .rewindToStart:
            return "live: the clock is the wall clock"
        case let .acknowledge(rule, site, by, note):
            // Journalled like a feed line (an operator action), applied by the consumer thread;
            // the answer comes back once the journal holds it.
            sequence += 1
            let now = WallClock.now()
            let action = OperatorAction(id: "ack-\(now.millis)-\(getpid())-\(sequence)", at: now,
                                        kind: .acknowledge(rule: rule, site: site, by: by, note: note))
            return submit(action, waiting: "Acknowledgement of \(rule) at \(site) sent; waiting for the service to confirm it")
        case let .silence(rule, site, by, duration, reason):
            sequence += 1
            let now = WallClock.now()
            let action = OperatorAction(id: "silence-\(now.millis)-\(getpid())-\(sequence)", at: now,
                                        kind: .silence(site: site, rule: rule, until: now + duration, by: by, reason: reason))
            return submit(action, waiting: "Silence of \(rule ?? "every alert") at \(site) sent; waiting for the service to confirm it")
        }
    }

    /// Hands `action` to the hub and waits a moment for the consumer's answer: applied (once
    /// the journal holds it) or refused, and why. Without one in time, says it waits, and the
    /// answer is said when it comes.
    private func submit(_ action: OperatorAction, waiting: String) -> String {
        hub.submit(Array(action.jsonLine.utf8), source: Self.operatorSource)
        if let answer = acks.wait(action.id, timeout: 1.0) { return answer }
        unanswered.append(action.id)
        return waiting
    }

    func lateMessage() -> String? {
        for (i, id) in unanswered.enumerated() {
            if let answer = acks.take(id) {
                unanswered.remove(at: i)
                return answer
            }
        }
        return nil
    }
}
