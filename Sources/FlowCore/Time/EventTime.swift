/// An instant on the event clock: milliseconds since the Unix epoch (UTC).
///
/// The core never reads the wall clock. Every time it sees comes from a feed message or from
/// the caller (the replay player or the live runner), so the same input gives the same output.
public struct EventTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var millis: Int64

    @inlinable public init(millis: Int64) { self.millis = millis }
    @inlinable public init(seconds: Int64) { self.millis = seconds &* 1000 }

    @inlinable public static func < (a: EventTime, b: EventTime) -> Bool { a.millis < b.millis }
    @inlinable public static func + (a: EventTime, d: Duration) -> EventTime { EventTime(millis: a.millis + d.millis) }
    @inlinable public static func - (a: EventTime, d: Duration) -> EventTime { EventTime(millis: a.millis - d.millis) }
    @inlinable public static func - (a: EventTime, b: EventTime) -> Duration { Duration(millis: a.millis - b.millis) }

    public var seconds: Int64 { millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000) }

    /// RFC 3339 in UTC with a `Z`, seconds resolution (milliseconds when not whole).
    public var description: String { RFC3339.format(self) }

    /// Rounds down to a multiple of `step` (used for ticks and history buckets).
    @inlinable public func floored(to step: Duration) -> EventTime {
        let s = step.millis
        let r = millis % s
        return EventTime(millis: r >= 0 ? millis - r : millis - r - s)
    }
}

/// A span of event time in milliseconds. (Named `Duration` inside the module; Swift's own
/// `Swift.Duration` is not used by the core.)
public struct Duration: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var millis: Int64
    @inlinable public init(millis: Int64) { self.millis = millis }
    @inlinable public static func seconds(_ s: Int64) -> Duration { Duration(millis: s * 1000) }
    @inlinable public static func minutes(_ m: Int64) -> Duration { Duration(millis: m * 60_000) }
    @inlinable public static func hours(_ h: Int64) -> Duration { Duration(millis: h * 3_600_000) }
    public static let zero = Duration(millis: 0)
    @inlinable public static func < (a: Duration, b: Duration) -> Bool { a.millis < b.millis }
    @inlinable public static func + (a: Duration, b: Duration) -> Duration { Duration(millis: a.millis + b.millis) }
    @inlinable public static func * (a: Duration, k: Int64) -> Duration { Duration(millis: a.millis * k) }
    public var minutesValue: Double { Double(millis) / 60_000 }
    public var hoursValue: Double { Double(millis) / 3_600_000 }

    /// `90s`, `15m`, `2h`, `1h30m`, `2d` - the form used in the configuration.
    public var description: String {
        var ms = millis
        if ms == 0 { return "0s" }
        var out = ms < 0 ? "-" : ""
        ms = abs(ms)
        let d = ms / 86_400_000; ms %= 86_400_000
        let h = ms / 3_600_000; ms %= 3_600_000
        let m = ms / 60_000; ms %= 60_000
        let s = ms / 1000; ms %= 1000
        if d > 0 { out += "\(d)d" }
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if s > 0 { out += "\(s)s" }
        if ms > 0 { out += "\(ms)ms" }
        return out
    }

    /// Parses `30s`, `15m`, `2h`, `1h30m`, `2d`, `250ms`. Returns nil for anything else.
    public static func parse(_ text: String) -> Duration? {
        let s = Array(text.utf8)
        if s.isEmpty { return nil }
        var i = 0
        var total: Int64 = 0
        var sawUnit = false
        while i < s.count {
            var n: Int64 = 0
            let start = i
            while i < s.count, s[i] >= 48, s[i] <= 57 {
                n = n * 10 + Int64(s[i] - 48)
                if n > 1_000_000_000 { return nil }
                i += 1
            }
            if i == start || i == s.count { return nil }
            let unit: Int64
            if s[i] == UInt8(ascii: "m"), i + 1 < s.count, s[i + 1] == UInt8(ascii: "s") {
                unit = 1; i += 2
            } else {
                switch s[i] {
                case UInt8(ascii: "s"): unit = 1000
                case UInt8(ascii: "m"): unit = 60_000
                case UInt8(ascii: "h"): unit = 3_600_000
                case UInt8(ascii: "d"): unit = 86_400_000
                default: return nil
                }
                i += 1
            }
            total += n * unit
            sawUnit = true
        }
        return sawUnit ? Duration(millis: total) : nil
    }
}
