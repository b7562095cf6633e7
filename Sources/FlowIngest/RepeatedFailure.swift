/// A failure that lasts (a journal whose commits keep failing, a state file that cannot be
/// saved, input held for the journal): counted every time, said the first time, then again only
/// every `interval` while it lasts. The interval is shorter than the five minutes the dashboard
/// shows a warning for after it was said, so a lasting failure stays on its status line without
/// a gap, where saying it at every try wrote hundreds of log lines a second.
public struct RepeatedFailure: Sendable {
    /// Monotonic nanoseconds between two sayings of the same failure.
    public static let interval: UInt64 = 240_000_000_000
    /// The failures so far.
    public private(set) var count = 0
    private var saidAt: UInt64?

    public init() {}

    /// Counts one more failure at `now` (monotonic nanoseconds); returns whether to say it now.
    public mutating func failed(now: UInt64) -> Bool {
        count += 1
        if let saidAt, now &- saidAt < Self.interval { return false }
        saidAt = now
        return true
    }
}
