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

/// An error of the live service, with a sentence for a person.
public struct LiveError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
