import FlowCore
import FlowIngest
import FlowNotify
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Recovery

public struct RecoveryReport {
    public var lines = 0, accepted = 0, operatorActions = 0, rejected = 0
    /// The live clock's own marks (clock, evaluate, held) among the lines: counted apart from
    /// the operators' acknowledgements and silences, which they outnumbered a thousand to one
    /// in the summary ("763 operator actions" for 2 acknowledgements; the operators' user test).
    public var marks = 0
    /// Lines recovered although the patient-data checks now refuse them (among `accepted` and
    /// `operatorActions`; an operator's note, reason or `by` withheld):
    /// accepted when they were written, and named in a warning (`FlowEngine.recover`).
    public var identifiable = 0
    public var transitions: [AlertTransition] = []
    /// What the notification policy met in the run the journal records, in order: runs of
    /// `transitions` and the live clock's ticks (its clock marks), so that a restart decides
    /// repeats and escalations at the instants that run did (`NotificationService.catchUp`).
    public var notifierSteps: [NotifierStep] = []
    public var milliseconds = 0.0
    public var setAside = 0

    public var summary: String {
        "recovered \(Log.count(lines, "journal line")) (\(Log.count(accepted, "message")), \(Log.count(operatorActions, "operator action"))"
            + (marks > 0 ? ", \(Log.count(marks, "clock mark"))" : "")
            + (rejected > 0 ? ", \(rejected) rejected" : "")
            + (identifiable > 0 ? ", \(identifiable) holding patient-identifiable data" : "") + ") in \(Int(milliseconds)) ms, \(Log.count(transitions.count, "alert transition"))"
    }
}

/// One step of `RecoveryReport.notifierSteps`.
public enum NotifierStep: Equatable, Sendable {
    /// `transitions[range]`, handed to the policy together.
    case transitions(Range<Int>)
    /// A tick of the live clock (a clock mark, on the grid: `PolicyClock`): repeats,
    /// escalations, silence ends.
    case tick(EventTime)
}

extension NotificationService {
    /// A restart: the recovered history through the policy as the live run gave it, each run of
    /// transitions and each tick of the clock in journal order, then a tick at `now`. Handed
    /// all at once with one tick at the restart, the policy started each alert's repeats and
    /// escalations over from then: after a restart an unacknowledged critical alert went quiet
    /// for as long as it had already run. The outbox skips what was already queued.
    /// The ticks, and `now`, on the live clock's grid (`PolicyClock`), as the live run ticked it.
    /// `current`: the recovered engine's alerts, which are as of the restart: what the messages
    /// made at the restart's tick say of their alert. The re-fed steps are past instants the
    /// engine is no longer at: a message made again there says its alert's last transition
    /// (those the live run made are in the outbox already, and are not sent again).
    public func catchUp(with report: RecoveryReport, now: EventTime, current: NotificationPolicy.CurrentAlert? = nil) {
        for step in report.notifierSteps {
            switch step {
            case .transitions(let range): handle(Array(report.transitions[range]))
            case .tick(let at): tickIfDue(now: at)   // a mark where nothing is due decides nothing
            }
        }
        tick(now: PolicyClock.instant(now, tick: system.tick), current: current)
        // Caught up: the live clock is past every line the log held, so nothing decides them
        // again (the outbox still knows what was put).
        log.forgetEarlierLines()
    }
}

public enum Recovery {
    /// Replays the journal into a fresh live engine (`FlowEngine.recover`), setting aside any
    /// half-written last line (`repair`: a service starting, which holds the journal's lock;
    /// without it the journal is only read, a last line without its newline skipped). Returns
    /// every transition the journal implies, in order.
    public static func run(engine: FlowEngine, journalDirectory: String, repair: Bool = true) throws -> RecoveryReport {
        var r = RecoveryReport()
        let start = WallClock.monotonicNanos()
        // Only the last day of history can be drawn after the restart: older samples keep the
        // trend rules' metrics only (a long journal rebuilds several times faster).
        let h = engine.model.history
        engine.historyForRulesOnly(until: WallClock.now() - h.span - h.step)
        do { try FileManager.default.createDirectory(atPath: journalDirectory, withIntermediateDirectories: true) } catch {
            throw LiveError("cannot create the journal directory \(journalDirectory): \(error)")
        }
        var firstRejections = 0, firstIdentifiable = 0
        let report = try Journal.readAll(from: journalDirectory, repair: repair, warn: { Log.warn($0) }) { line, origin in
            r.lines += 1
            let outcome = line.withUnsafeBufferPointer { engine.recover($0) }
            switch outcome {
            case .accepted, .held: r.accepted += 1   // held: replay only (recovery runs in live mode)
            case .operatorAction(let a, _):
                switch a.kind {
                case .clock, .evaluate, .held: r.marks += 1
                default: r.operatorActions += 1
                }
            case .rejected(let why):
                r.rejected += 1
                if firstRejections < 10 {
                    firstRejections += 1
                    Log.warn("\(origin): not recovered: \(why)")
                }
            }
            if let why = engine.recoveredIdentifiable {
                r.identifiable += 1
                if firstIdentifiable < 10 {
                    firstIdentifiable += 1
                    Log.warn("\(origin): holds patient-identifiable data (\(why.field.map { "field \($0): " } ?? "")\(why.detail)); "
                             + "recovered without its text, as it was accepted when written: remove it from the journal (urgentflow redact, with the service stopped)")
                }
            }
            if engine.hasPendingTransitions {
                let t = engine.drainTransitions()
                r.notifierSteps.append(.transitions(r.transitions.count..<(r.transitions.count + t.count)))
                r.transitions += t
            }
            // The live clock ticked the policy right after the transitions of its tick.
            if case .operatorAction(let a, true) = outcome, case .clock = a.kind {
                r.notifierSteps.append(.tick(PolicyClock.instant(a.at, tick: engine.config.tick)))
            }
        }
        r.setAside = report.setAside.count
        r.milliseconds = Double(WallClock.monotonicNanos() - start) / 1e6
        return r
    }
}
