import FlowCore

/// What the dashboard asks of its data source.
public enum DriverCommand: Equatable, Sendable {
    /// Pause or resume. In replay the event clock stops; live, ingest may continue (the view
    /// freezes either way).
    case setPaused(Bool)
    /// Replay only: the next speed up / down (`ReplayPlayer.speedSteps`: ×1, 2, 5, 10, 30, 60,
    /// 120, 300, 600 ... 86.4k).
    case faster
    case slower
    /// Replay only: apply the next event, even while paused.
    case stepEvent
    /// Replay only: play until the next alert transition (raise, resolve, escalate).
    case nextAlertTransition
    /// Replay only: move the playhead by this much event time, back (negative) or ahead. Back
    /// replays the scenario from its start to there, with the acknowledgements and silences
    /// taken before that instant.
    case jump(FlowCore.Duration)
    /// Replay only: back to the scenario's start.
    case rewindToStart
    /// Acknowledge the active alert `rule` at `site`.
    case acknowledge(rule: String, site: String, by: String, note: String?)
    /// Silence the notifications of `rule` at `site` (every alert of the site when `rule` is
    /// nil) for a time, with who and why.
    case silence(rule: String?, site: String, by: String, duration: FlowCore.Duration, reason: String)
}

/// The data source of the dashboard, implemented by the app (replay player or live runner).
///
/// The UI calls every method from the single thread that owns the terminal, in this loop:
/// `advance()` once per tick (at most every refresh interval, and after each key), `snapshot()`
/// when `advance()` returned true or after a command, `perform(_:)` for user commands.
/// Nothing here may block for long: the terminal is not redrawn while it runs.
public protocol DashboardDriver: AnyObject {
    /// Let the source move on: replay pacing against the wall clock, or draining live input.
    /// Called even while the view is paused (live ingest must not stall). Returns true when the
    /// snapshot changed since the last call.
    func advance() -> Bool
    /// The current picture.
    func snapshot() -> DashboardSnapshot
    /// Carries out a user command. Returns a short message for the status line (e.g. an error
    /// such as "no such alert"), or nil.
    @discardableResult
    func perform(_ command: DriverCommand) -> String?
    /// A status-line message that came after `perform` returned: the live service applied or
    /// refused an acknowledgement or silence it had not answered in time (`perform` said it was
    /// waiting). Asked at every tick; nil when there is none. Default: none.
    func lateMessage() -> String?
}

extension DashboardDriver {
    public func lateMessage() -> String? { nil }
}
