import FlowCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The wall clock as an event time (milliseconds since the epoch, UTC).
public enum WallClock {
    public static func now() -> EventTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return EventTime(millis: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// The live clock's ticks as the notification policy reads them: the tick's instant on the grid
/// (the system's tick, at least a second), not the wall-clock instant the tick ran at. Each run's
/// ticks fall at their own fraction of a second: a reminder due at 08:46:00.098 (an hour after
/// one sent at a tick's 08:45:00.098) was not due at the restarted run's 08:46:00.059 and came a
/// tick late; and a repeat's `at` had milliseconds where the firing it repeats had none.
public enum PolicyClock {
    public static func instant(_ t: EventTime, tick: Duration) -> EventTime {
        t.floored(to: Duration(millis: max(1000, tick.millis)))
    }
}

/// An error of the live service, with a sentence for a person.
public struct LiveError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
