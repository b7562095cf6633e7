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
    public var transitions: [AlertTransition] = []
    public var milliseconds = 0.0
    public var setAside = 0

    public var summary: String {
        "recovered \(lines) journal lines (\(accepted) messages, \(operatorActions) operator actions"
            + (rejected > 0 ? ", \(rejected) rejected" : "") + ") in \(Int(milliseconds)) ms, \(transitions.count) alert transitions"
    }
}

public enum Recovery {
    /// Replays the journal into a fresh live engine (`FlowEngine.recover`), setting aside any
    /// half-written last line. Returns every transition the journal implies, in order.
    public static func run(engine: FlowEngine, journalDirectory: String) throws -> RecoveryReport {
        var r = RecoveryReport()
        let start = WallClock.monotonicNanos()
        // Only the last day of history can be drawn after the restart: older samples keep the
        // trend rules' metrics only (a long journal rebuilds several times faster).
        let h = engine.model.history
        engine.historyForRulesOnly(until: WallClock.now() - h.span - h.step)
        do { try FileManager.default.createDirectory(atPath: journalDirectory, withIntermediateDirectories: true) } catch {
            throw LiveError("cannot create the journal directory \(journalDirectory): \(error)")
        }
        var firstRejections = 0
        let report = try Journal.readAll(from: journalDirectory, repair: true, warn: { Log.warn($0) }) { line, origin in
            r.lines += 1
            switch line.withUnsafeBufferPointer({ engine.recover($0) }) {
            case .accepted, .held: r.accepted += 1   // held: replay only (recovery runs in live mode)
            case .operatorAction: r.operatorActions += 1
            case .rejected(let why):
                r.rejected += 1
                if firstRejections < 10 {
                    firstRejections += 1
                    Log.warn("journal \(origin): not recovered: \(why)")
                }
            }
            if engine.hasPendingTransitions { r.transitions += engine.drainTransitions() }
        }
        r.setAside = report.setAside.count
        r.milliseconds = Double(WallClock.monotonicNanos() - start) / 1e6
        return r
    }
}
