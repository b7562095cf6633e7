import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The service's messages on stderr: information, and warnings (the service's own troubles),
/// the latest of which are kept for the status line and said again when the dashboard closes.
/// While the screen owns the terminal, stderr is diverted to a file (`divert(toFile:)`).
public enum Log {
    public static func info(_ s: String) { Log.write("urgentflow: " + s + "\n") }
    /// `n` and the noun, plural unless one ("1 journal line", "6 journal lines").
    public static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
    /// `topic`: the trouble it is about (`notifier pager`), for `settled(_:)` to say it is over.
    public static func warn(_ s: String, about topic: String? = nil) {
        state.withLock { st in
            if st.recent.last?.text == s { st.recent[st.recent.count - 1].count += 1 } else {
                if st.recent.count == State.kept { st.recent.removeFirst() }
                st.recent.append(Warning(text: s, count: 1, topic: topic))
            }
            st.recent[st.recent.count - 1].at = WallClock.monotonicNanos()
            st.recent[st.recent.count - 1].settled = false
            st.total += 1
        }
        Log.write("urgentflow: warning: " + s + "\n")
    }

    /// The trouble the warnings `about` `topic` were said of is over (a notifier delivers
    /// again): they leave the dashboard's status line (`latestWarning`). It said `notifier hook
    /// is failing` for five minutes after the log said `notifier hook delivers again`.
    public static func settled(_ topic: String) {
        state.withLock { st in
            for i in st.recent.indices where st.recent[i].topic == topic { st.recent[i].settled = true }
        }
    }

    /// The latest warning, how many times running it was said, and when last.
    public struct Warning: Sendable {
        public var text: String
        public var count: Int
        public var at: UInt64 = 0
        /// What it is about, if said (`warn(_:about:)`), and whether that is over (`settled`).
        public var topic: String? = nil
        public var settled = false
    }

    /// The latest warning not yet settled (`settled(_:)`) if it was said within `seconds` (the
    /// dashboard shows it).
    public static func latestWarning(within seconds: Double) -> Warning? {
        state.withLock { st in
            guard let w = st.recent.last(where: { !$0.settled }), WallClock.monotonicNanos() &- w.at <= UInt64(seconds * 1e9) else { return nil }
            return w
        }
    }

    /// Warnings said so far.
    public static var warningCount: Int { state.withLock { $0.total } }

    /// The latest warnings, a repeated one counted once (at most `State.kept`): said again on the
    /// terminal after the dashboard, as the file they were diverted to may be on the full disk
    /// they are about.
    public static var recentWarnings: [Warning] { state.withLock { $0.recent } }

    /// While the dashboard owns the terminal, what is written to stderr goes to `path` instead
    /// (appended): a warning written to the terminal lands in the middle of the screen. Returns
    /// false (stderr unchanged) if the file cannot be opened.
    public static func divert(toFile path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return state.withLock { st in
            guard st.savedStderr < 0 else { return true }
            let saved = dup(2)
            guard saved >= 0, dup2(fd, 2) == 2 else { if saved >= 0 { close(saved) }; return false }
            st.savedStderr = saved
            return true
        }
    }

    /// Whether stderr is diverted (`divert(toFile:)`) now.
    public static var isDiverted: Bool { state.withLock { $0.savedStderr >= 0 } }

    /// Gives stderr back to the terminal after `divert`.
    public static func restore() {
        state.withLock { st in
            guard st.savedStderr >= 0 else { return }
            _ = dup2(st.savedStderr, 2)
            close(st.savedStderr)
            st.savedStderr = -1
        }
    }

    private struct State {
        static let kept = 10
        var recent: [Warning] = []
        var total = 0
        var savedStderr: Int32 = -1
    }
    private static let state = Mutex(State())
}

extension Log {
    static func write(_ s: String) {
        var s = s
        s.withUTF8 { p in _ = Glibc.write(2, p.baseAddress, p.count) }
    }
}
