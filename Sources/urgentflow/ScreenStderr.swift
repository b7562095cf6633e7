import FlowLive
import Foundation

/// While the dashboard's screen owns the terminal, stderr (warnings, rejected lines) goes to a
/// log file, so nothing writes over the screen; once the screen gives the terminal back, the
/// warnings said meanwhile are said again there (the log file may sit on the full disk that
/// caused them). `runDashboard(onScreen:)` calls `screen` when it takes and gives back the
/// terminal: a terminal ncurses cannot drive falls back to the line mode, which keeps stderr.
final class ScreenStderr {
    let logFile: String
    /// Whether the log file outlives the run (the replay's is in its scratch folder).
    let kept: Bool
    private var warningsBefore = 0

    init(logFile: String, kept: Bool = true) {
        self.logFile = logFile
        self.kept = kept
    }

    /// Diverts stderr now, ahead of the screen: the live service calls it before its inputs
    /// start. A followed file's backlog is read at once, and its rejected lines were written to
    /// the terminal the screen was about to cover, and to no file.
    func divertAhead() {
        guard !Log.isDiverted else { return }
        warningsBefore = Log.warningCount
        _ = Log.divert(toFile: logFile)
    }

    /// `runDashboard`'s hook: the screen took the terminal (true), or gave it back or could not
    /// take it (false).
    func screen(_ on: Bool) {
        if on {
            divertAhead()
            return
        }
        guard Log.isDiverted else { return }
        Log.restore()
        let n = Log.warningCount - warningsBefore
        guard n > 0 else { return }
        let where_ = kept ? " (written to \(logFile) as they came)" : ""
        Log.info("\(n) warning\(n == 1 ? "" : "s") while the dashboard ran\(where_); the latest:")
        for w in Log.recentWarnings.suffix(n) { Log.info("  " + w.text + (w.count > 1 ? " (\(w.count) times)" : "")) }
    }
}
